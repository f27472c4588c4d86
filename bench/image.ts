// Image backup and restore of one ext4 partition: ours beside partclone.ext4 | zstd, fsarchiver savefs, dd | zstd
// (backup), and dd (restore), in the same run on the same data.
// Run: npm run bench:image [-- --size-mib 4096 --fill-mib 1024]
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHost } from '../core/node/index.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '4096' }, 'fill-mib': { type: 'string', default: '1024' }, level: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' } } });
// This machine's speed drifts by 20% and more between minutes: each figure is the median of `runs`, tools interleaved.
const RUNS = Number(values.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MIB = 1024 * 1024;
const sizeMiB = Number(values['size-mib']);
const fillMiB = Number(values['fill-mib']);
const sh = (command: string) => execSync(command, { stdio: ['ignore', 'pipe', 'pipe'], shell: '/bin/bash' }).toString();
const timed = (fn: () => void) => {
  const started = performance.now();
  fn();
  return (performance.now() - started) / 1000;
};
const dropCaches = () => writeFileSync('/proc/sys/vm/drop_caches', '3');

const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-image-'));
const device = sh(`losetup --find --show ${makeSource()}`).trim();
const mnt = join(dir, 'mnt');
try {
  sh(`mkfs.ext4 -q -F ${device}`);
  mkdirSync(mnt);
  sh(`mount ${device} ${mnt}`);
  // Half incompressible, half text-like: what a real system partition looks like to a compressor.
  sh(`head -c ${(fillMiB / 2) * MIB} /dev/urandom > ${mnt}/random.bin`);
  sh(`for i in $(seq 1 ${fillMiB / 2}); do base64 -w 100 /dev/urandom 2>/dev/null | head -c ${MIB} | tr 'A-M' 'a-m' > ${mnt}/text-$i.txt; done`);
  sh(`umount ${mnt}`);
  const usedMiB = Number(sh(`dumpe2fs -h ${device} 2>/dev/null | awk -F: '/^Block count/{b=$2} /^Free blocks/{f=$2} /^Block size/{s=$2} END{print (b-f)*s/1048576}'`));

  const results: { tool: string; seconds: number[]; bytes: number }[] = [];
  const record = (tool: string, seconds: number, bytes: number) => {
    const entry = results.find((r) => r.tool === tool);
    if (entry) entry.seconds.push(seconds);
    else results.push({ tool, seconds: [seconds], bytes });
  };
  // Every tool is timed until its output is on disk (fdatasync), as our backup is: an image still in the page cache
  // is not a backup yet.
  const run = (tool: string, command: string, output: string) => {
    rmSync(output, { force: true });
    dropCaches();
    const seconds = timed(() => sh(`${command} && sync -d ${output}`));
    record(tool, seconds, statSync(output).size);
  };
  const ours = join(dir, 'ours.sdimg');
  process.env['SHADOWDISK_HOME'] = join(dir, 'state');
  await using host = await createHost({ logSink: () => undefined });
  let peakRss = 0;
  const restoreTarget = join(dir, 'restore.img');
  execFileSync('truncate', ['-s', `${sizeMiB}M`, restoreTarget]);
  const restores: { ours: number[]; zstdDd: number[]; dd: number[] } = { ours: [], zstdDd: [], dd: [] };
  for (let round = 0; round < RUNS; round++) {
    rmSync(ours, { force: true });
    dropCaches();
    const started = performance.now();
    const backup = await host.executeCommand('shadowdisk.backup.image-backup', { positionals: [device, ours], options: { level: values.level! } });
    record('shadowdisk image backup', (performance.now() - started) / 1000, statSync(ours).size);
    peakRss = Math.max(peakRss, (backup.data as { peakRssMiB: number }).peakRssMiB);
    run(`partclone.ext4 -c | zstd -${values.level}`, `partclone.ext4 -c -q -s ${device} -o - 2>/dev/null | zstd -q -${values.level} -T2 -o ${dir}/partclone.zst`, `${dir}/partclone.zst`);
    run('fsarchiver savefs', `fsarchiver -j2 -z${values.level} -o savefs ${dir}/fsa.fsa ${device} >/dev/null 2>&1 || true`, `${dir}/fsa.fsa`);
    run(`dd | zstd -${values.level}`, `dd if=${device} bs=4M status=none | zstd -q -${values.level} -T2 -o ${dir}/dd.zst`, `${dir}/dd.zst`);

    dropCaches();
    const restoreStarted = performance.now();
    await host.executeCommand('shadowdisk.backup.image-restore', { positionals: [ours, restoreTarget], options: { yes: true } });
    restores.ours.push((performance.now() - restoreStarted) / 1000);
    dropCaches();
    restores.zstdDd.push(timed(() => sh(`zstd -q -d -c ${dir}/dd.zst | dd of=${restoreTarget} bs=4M conv=notrunc,fsync status=none`)));
    dropCaches();
    restores.dd.push(timed(() => sh(`dd if=${device} of=${restoreTarget} bs=4M conv=notrunc,fsync status=none`)));
  }
  const oursRestore = median(restores.ours);
  const ddRestore = median(restores.zstdDd);
  const ddRaw = median(restores.dd);

  const partclone = { ...results[1]!, median: median(results[1]!.seconds) };
  console.log(`ext4 partition of ${sizeMiB} MiB with ${usedMiB.toFixed(0)} MiB used, zstd level ${values.level}, 2 cores; caches dropped before each run, times until the output is on disk, median of ${RUNS} interleaved runs`);
  console.log(`${'backup'.padEnd(30)} ${'seconds'.padStart(8)} ${'MiB/s (used)'.padStart(13)} ${'image MiB'.padStart(10)} ${'vs partclone'.padStart(13)}`);
  for (const r of results) {
    const seconds = median(r.seconds);
    console.log(`${r.tool.padEnd(30)} ${seconds.toFixed(2).padStart(8)} ${(usedMiB / seconds).toFixed(0).padStart(13)} ${(r.bytes / MIB).toFixed(1).padStart(10)} ${`${(partclone.median / seconds).toFixed(2)}x speed, ${(r.bytes / partclone.bytes).toFixed(2)}x size`.padStart(13)}   (runs: ${r.seconds.map((x) => x.toFixed(2)).join(', ')})`);
  }
  console.log(`${'restore'.padEnd(30)} ${'seconds'.padStart(8)} ${'vs dd'.padStart(13)}`);
  console.log(`${'shadowdisk image restore'.padEnd(30)} ${oursRestore.toFixed(2).padStart(8)} ${`${(ddRaw / oursRestore).toFixed(2)}x`.padStart(13)}`);
  console.log(`${'zstd -d | dd'.padEnd(30)} ${ddRestore.toFixed(2).padStart(8)} ${`${(ddRaw / ddRestore).toFixed(2)}x`.padStart(13)}`);
  console.log(`${'dd (device to file)'.padEnd(30)} ${ddRaw.toFixed(2).padStart(8)} ${'1.00x'.padStart(13)}`);
  console.log(`peak RSS of our backup: ${peakRss.toFixed(0)} MiB`);
} finally {
  sh(`mountpoint -q ${mnt} && umount ${mnt} || true`);
  sh(`losetup -d ${device}`);
  rmSync(dir, { recursive: true, force: true });
}

function makeSource(): string {
  const path = join(dir, 'source.img');
  execFileSync('truncate', ['-s', `${sizeMiB}M`, path]);
  return path;
}
