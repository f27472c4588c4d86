// Partition move throughput: `part move` (journaled, step by step, through the host) beside dd bs=1M copying the same
// range on the same loop device, until on disk (conv=fsync) and with O_DIRECT both ways. Median of interleaved rounds.
// Run: npm run bench:move [-- --size-mib 1024 --rounds 3]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHost } from '../core/node/index.js';
import { attachLoop, detachLoop } from '../native/index.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, rounds: { type: 'string', default: '3' } } });
const MIB = 1024 * 1024;
const sizeMiB = Number(values['size-mib']);
const rounds = Number(values.rounds);
// The partition sits at 1 MiB or at `far` (after a gap), so each move is the same range copied one way or the other.
const near = 1;
const far = near + sizeMiB + 16;

const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-'));
const image = join(dir, 'disk.img');
let device: string | undefined;
try {
  execFileSync('truncate', ['-s', `${far + sizeMiB + 1}M`, image]);
  execFileSync('sfdisk', ['--quiet', image], { input: `label: gpt\nstart=${near * 2048},size=${sizeMiB * 2048},type=L\n` });
  // Real data all the way: neither copier meets holes.
  execFileSync('dd', ['if=/dev/urandom', `of=${image}`, `bs=${MIB}`, `seek=${near}`, `count=${sizeMiB}`, 'conv=notrunc', 'status=none']);
  device = attachLoop(image, { directIo: true });
  const host = await createHost({ stateDir: join(dir, 'state'), logSink: () => undefined });
  const times: Record<string, number[]> = { ours: [], ddFsync: [], ddDirect: [] };
  let at = near;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const to of [far, near]) {
        const started = performance.now();
        await host.executeCommand('shadowdisk.partition.part-move', { positionals: [device, '1'], options: { start: `${to}MiB` } });
        await host.executeCommand('shadowdisk.partition.part-apply', { positionals: [device], options: { yes: true } });
        times['ours']!.push((performance.now() - started) / 1000);
        const from = at;
        at = to;
        times['ddFsync']!.push(timeDd(device, from, to, ['conv=fsync']));
        times['ddDirect']!.push(timeDd(device, from, to, ['iflag=direct', 'oflag=direct']));
      }
    }
  } finally {
    await host[Symbol.asyncDispose]();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rate = (name: string) => sizeMiB / median(times[name]!);
  console.log(`Move of a ${sizeMiB} MiB partition on ${device} (loop, direct I/O, over ${image}); median of ${rounds * 2} moves`);
  console.log('copier'.padEnd(44), 'MiB/s'.padStart(8), 'ours/this'.padStart(10));
  const rows: [string, string][] = [
    ['shadowdisk part move (journaled, flushed)', 'ours'],
    ['dd bs=1M conv=fsync (same range)', 'ddFsync'],
    ['dd bs=1M iflag=direct oflag=direct', 'ddDirect'],
  ];
  for (const [label, key] of rows) console.log(label.padEnd(44), rate(key).toFixed(0).padStart(8), (rate('ours') / rate(key)).toFixed(2).padStart(10));
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  if (device) detachLoop(device);
  rmSync(dir, { recursive: true, force: true });
}

function timeDd(path: string, fromMiB: number, toMiB: number, flags: string[]): number {
  const started = performance.now();
  execFileSync('dd', [`if=${path}`, `of=${path}`, 'bs=1M', `skip=${fromMiB}`, `seek=${toMiB}`, `count=${sizeMiB}`, ...flags, 'status=none']);
  return (performance.now() - started) / 1000;
}
