// Sequential O_DIRECT read of a loop device: our native DirectFile (libuv pool, 2 reads in flight) beside dd iflag=direct.
// Run: npm run bench:direct-read [-- --size-mib 1024 --block-mib 4]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { allocAligned, attachLoop, detachLoop, DirectFile } from '../native/index.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, 'block-mib': { type: 'string', default: '4' } } });
const MIB = 1024 * 1024;
const sizeBytes = Number(values['size-mib']) * MIB;
const blockBytes = Number(values['block-mib']) * MIB;

const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-'));
const image = join(dir, 'disk.img');
let device: string | undefined;
try {
  // Real data, so neither reader meets holes: the loop device reads the file through the page cache unless direct.
  execFileSync('dd', ['if=/dev/urandom', `of=${image}`, `bs=${MIB}`, `count=${sizeBytes / MIB}`, 'status=none']);
  device = attachLoop(image, { directIo: true });
  const ours = await timeOurs(device);
  const dd = timeDd(device);
  const rows = [
    ['shadowdisk DirectFile', ours],
    ['dd iflag=direct', dd],
  ] as const;
  console.log(`Sequential O_DIRECT read of ${sizeBytes / MIB} MiB from ${device} in ${blockBytes / MIB} MiB blocks`);
  console.log('reader'.padEnd(24), 'MiB/s'.padStart(10), 'ratio'.padStart(8));
  for (const [name, seconds] of rows) console.log(name.padEnd(24), (sizeBytes / MIB / seconds).toFixed(0).padStart(10), (dd / seconds).toFixed(2).padStart(8));
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  if (device) detachLoop(device);
  rmSync(dir, { recursive: true, force: true });
}

async function timeOurs(path: string): Promise<number> {
  using file = DirectFile.open(path, 'r');
  const buffers = [allocAligned(blockBytes, file.alignment), allocAligned(blockBytes, file.alignment)];
  const started = performance.now();
  // Two reads in flight: one per core of the thread pool's work.
  for (let offset = 0; offset < sizeBytes; offset += 2 * blockBytes) {
    await Promise.all(buffers.map((buf, i) => (offset + i * blockBytes < sizeBytes ? file.read(buf, BigInt(offset + i * blockBytes)) : 0)));
  }
  return (performance.now() - started) / 1000;
}

function timeDd(path: string): number {
  const started = performance.now();
  execFileSync('dd', [`if=${path}`, 'of=/dev/null', `bs=${blockBytes}`, 'iflag=direct', 'status=none']);
  return (performance.now() - started) / 1000;
}
