// Cost of hot processing: fio (Debian's) on the same backing file as a plain direct-I/O loop device (the baseline),
// attached behind the hotcore engine while idle, and attached with an active snapshot (every first write to a block
// copies it to a diff store on /dev/shm). 4 KiB random writes at QD32 for --runtime seconds (IOPS, p99) and one pass of
// 1 MiB sequential writes at QD8 over the volume (MiB/s).
// --cow-chunk-kib N attaches with that copy-before-write chunk (hot attach's option; the engine's default otherwise).
// Run: npm run bench:hot [-- --size-mib 1024 --runtime 10 --rounds 3 --cow-chunk-kib 64]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHost } from '../core/node/index.js';
import { attachLoop, detachLoop } from '../native/index.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, runtime: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, 'cow-chunk-kib': { type: 'string' } } });
const MIB = 1024 * 1024;
const sizeMiB = Number(values['size-mib']);
const runtimeS = Number(values.runtime);
const rounds = Number(values.rounds);

interface Figures { iops: number; p99Ms: number; seqMiBs: number }
type Config = 'baseline' | 'idle' | 'snapshot';

type Job = 'randwrite' | 'seqwrite' | 'seqread' | 'seqmix';
const JOBS: Record<Job, string[]> = {
  randwrite: ['--rw=randwrite', '--bs=4k', '--iodepth=32', '--randrepeat=0', '--time_based', `--runtime=${runtimeS}`],
  // One pass over the volume, so with a snapshot every block it writes is a first write.
  seqwrite: ['--rw=write', '--bs=1M', '--iodepth=8'],
  // The disk's other limits, for the ceiling of copy-before-write (below).
  seqread: ['--rw=read', '--bs=1M', '--iodepth=8'],
  seqmix: ['--rw=rw', '--rwmixread=50', '--bs=1M', '--iodepth=8'],
};

/** `mibs` counts reads and writes together. */
function fio(device: string, job: Job): { iops: number; p99Ms: number; mibs: number } {
  const args = ['--name=bench', `--filename=${device}`, '--direct=1', '--ioengine=libaio', '--output-format=json', `--size=${sizeMiB}M`, ...JOBS[job]];
  type Side = { iops: number; bw_bytes: number; clat_ns: { percentile?: Record<string, number> } };
  const report = JSON.parse(execFileSync('fio', args, { encoding: 'utf8', maxBuffer: 64 * MIB })) as { jobs: { read: Side; write: Side }[] };
  const { read, write } = report.jobs[0]!;
  const main = job === 'seqread' ? read : write;
  return { iops: main.iops, p99Ms: (main.clat_ns.percentile?.['99.000000'] ?? 0) / 1e6, mibs: (read.bw_bytes + write.bw_bytes) / MIB };
}

const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-hot-'));
const diffDir = mkdtempSync('/dev/shm/shadowdisk-bench-hot-');
const image = join(dir, 'volume.img');
const results: Record<Config, Figures[]> = { baseline: [], idle: [], snapshot: [] };
/** The plain loop device's sequential read, and reads and writes mixed half and half (MiB/s of both together). */
const disk: { readMiBs: number[]; mixMiBs: number[] } = { readMiBs: [], mixMiBs: [] };
let transport = 'unknown';
const host = await createHost({ stateDir: join(dir, 'state'), logSink: () => undefined });
try {
  // Written extents, so no run pays for unwritten-extent conversion.
  execFileSync('dd', ['if=/dev/zero', `of=${image}`, `bs=${MIB}`, `count=${sizeMiB}`, 'oflag=direct', 'status=none']);
  const hot = (verb: string, device?: string) => host.executeCommand(`shadowdisk.hot-processing.${verb}`, { positionals: device ? [device] : [], options: verb === 'attach' ? { 'diff-dir': diffDir, ...(values['cow-chunk-kib'] !== undefined ? { 'cow-chunk-kib': values['cow-chunk-kib'] } : {}) } : {} });
  for (let round = 0; round < rounds; round++) {
    // Alternating the configurations within each round spreads the disk's drift over all of them.
    const plain = attachLoop(image, { directIo: true });
    try {
      const random = fio(plain, 'randwrite');
      const seq = fio(plain, 'seqwrite');
      results.baseline.push({ iops: random.iops, p99Ms: random.p99Ms, seqMiBs: seq.mibs });
      disk.readMiBs.push(fio(plain, 'seqread').mibs);
      disk.mixMiBs.push(fio(plain, 'seqmix').mibs);
    } finally {
      detachLoop(plain);
    }
    const attached = ((await hot('attach', image)).data as { device: string }).device;
    const status = await hot('status');
    transport = (status.data as { attachments: { engine: { transport?: string } }[] }).attachments[0]?.engine.transport ?? 'unknown';
    try {
      const random = fio(attached, 'randwrite');
      const seq = fio(attached, 'seqwrite');
      results.idle.push({ iops: random.iops, p99Ms: random.p99Ms, seqMiBs: seq.mibs });
      // A fresh snapshot for each job: every block's first write pays the copy, as right after a real snapshot.
      await hot('snapshot-create', attached);
      const randomSnap = fio(attached, 'randwrite');
      await hot('snapshot-delete', attached);
      await hot('snapshot-create', attached);
      const seqSnap = fio(attached, 'seqwrite');
      await hot('snapshot-delete', attached);
      results.snapshot.push({ iops: randomSnap.iops, p99Ms: randomSnap.p99Ms, seqMiBs: seqSnap.mibs });
    } finally {
      await hot('detach', attached);
    }
  }
  // Medians: the disk drifts and other processes come and go; one bad round must not move the figure.
  const medianOf = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const median = (list: Figures[], key: keyof Figures) => {
    const sorted = list.map((f) => f[key]).sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const base = { iops: median(results.baseline, 'iops'), p99Ms: median(results.baseline, 'p99Ms'), seqMiBs: median(results.baseline, 'seqMiBs') };
  console.log(`fio on a ${sizeMiB} MiB backing file: ${runtimeS} s of 4k random writes, one pass of 1M writes; median of ${rounds} round(s); diff store on /dev/shm; engine transport ${transport}; copy-before-write chunk ${values['cow-chunk-kib'] !== undefined ? `${values['cow-chunk-kib']} KiB` : 'the engine default'}`);
  console.log(['config', '4k randwrite IOPS', 'ratio', 'p99 ms', 'ratio', '1M seq MiB/s', 'ratio'].map((h, i) => (i === 0 ? h.padEnd(22) : h.padStart(i % 2 ? 18 : 7))).join(''));
  for (const config of ['baseline', 'idle', 'snapshot'] as const) {
    const f = { iops: median(results[config], 'iops'), p99Ms: median(results[config], 'p99Ms'), seqMiBs: median(results[config], 'seqMiBs') };
    const name = config === 'baseline' ? 'plain loop (baseline)' : config === 'idle' ? 'attached, idle' : 'attached, snapshot';
    console.log([name.padEnd(22), f.iops.toFixed(0).padStart(18), (f.iops / base.iops).toFixed(2).padStart(7), f.p99Ms.toFixed(2).padStart(18),
      (f.p99Ms / base.p99Ms).toFixed(2).padStart(7), f.seqMiBs.toFixed(0).padStart(18), (f.seqMiBs / base.seqMiBs).toFixed(2).padStart(7)].join(''));
  }
  console.log('targets (issue 6): idle >= 0.90 of baseline; snapshot >= 0.50 IOPS, p99 <= 3.00x, sequential >= 0.80');
  // Right after a snapshot, each MiB written sequentially is a MiB read (the old data) and a MiB written, on the same
  // disk. Whatever mix the disk is best at bounds both together, so writes get half of it at most.
  const readMiBs = medianOf(disk.readMiBs);
  const mixMiBs = medianOf(disk.mixMiBs);
  const best = Math.max(base.seqMiBs, readMiBs, mixMiBs);
  console.log(`the disk (plain loop, 1M, QD8): write ${base.seqMiBs.toFixed(0)} MiB/s, read ${readMiBs.toFixed(0)} MiB/s, half reads half writes ${mixMiBs.toFixed(0)} MiB/s in all`);
  console.log(`ceiling of sequential writes under copy-before-write: ${(best / 2).toFixed(0)} MiB/s = ${(best / 2 / base.seqMiBs).toFixed(2)} of baseline (half the best of the three)`);
  console.log(`peak RSS of this process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (the engine is a separate process)`);
} finally {
  await host[Symbol.asyncDispose]();
  rmSync(dir, { recursive: true, force: true });
  rmSync(diffDir, { recursive: true, force: true });
}
