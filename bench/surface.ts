// Surface-test throughput on good media: `disk surface-test` through the host beside `dd bs=1M iflag=direct` on the
// same direct-I/O loop device, interleaved, median of N runs. Target: ours >= 0.9x dd.
// Run: npm run bench:surface [-- --size-mib 1024 --runs 3]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHost } from '../core/node/index.js';
import { attachLoop, detachLoop } from '../native/index.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } } });
const MIB = 1024 * 1024;
const sizeBytes = Number(values['size-mib']) * MIB;
const runs = Number(values.runs);

const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-surface-'));
const image = join(dir, 'disk.img');
let device: string | undefined;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  execFileSync('dd', ['if=/dev/urandom', `of=${image}`, `bs=${MIB}`, `count=${sizeBytes / MIB}`, 'status=none']);
  device = attachLoop(image, { directIo: true });
  await using host = await createHost({ stateDir: join(dir, 'state'), logSink: () => undefined });
  const ours: number[] = [];
  const dd: number[] = [];
  for (let i = 0; i < runs; i++) {
    let started = performance.now();
    const result = (await host.executeCommand('shadowdisk.disk-tools.surface-test', { positionals: [device], options: {} })).data as { badSectors: number; readBytes: number };
    ours.push((performance.now() - started) / 1000);
    if (result.badSectors !== 0 || result.readBytes !== sizeBytes) throw new Error(`surface test read ${result.readBytes} bytes with ${result.badSectors} bad sectors on good media`);
    started = performance.now();
    execFileSync('dd', [`if=${device}`, 'of=/dev/null', 'bs=1M', 'iflag=direct', 'status=none']);
    dd.push((performance.now() - started) / 1000);
  }
  const rate = (seconds: number) => sizeBytes / MIB / seconds;
  console.log(`Surface test of ${sizeBytes / MIB} MiB on ${device} (direct-I/O loop over a file of random data), median of ${runs}, load ${execFileSync('cat', ['/proc/loadavg']).toString().split(' ')[0]}`);
  console.log('reader'.padEnd(34), 'MiB/s'.padStart(8), 'ratio'.padStart(8));
  console.log('shadowdisk disk surface-test'.padEnd(34), rate(median(ours)).toFixed(0).padStart(8), (median(dd) / median(ours)).toFixed(2).padStart(8));
  console.log('dd bs=1M iflag=direct'.padEnd(34), rate(median(dd)).toFixed(0).padStart(8), '1.00'.padStart(8));
  console.log(`runs (s): ours ${ours.map((s) => s.toFixed(2)).join(' ')}; dd ${dd.map((s) => s.toFixed(2)).join(' ')}`);
} finally {
  if (device) detachLoop(device);
  rmSync(dir, { recursive: true, force: true });
}
