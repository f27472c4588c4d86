// Repository backups to S3: ours (image backup --repo, the disk's used blocks) beside Debian's restic backing up the
// mounted filesystem, to the same single-node Ceph RGW, on the same data, in one run: first backup, then a second
// generation after ~10% of the files changed: whole folders (`--change packages`, as a package upgrade does) or every
// tenth file (`--change scattered`, the hardest case for block-level chunks: nearly every chunk holds a changed file).
// Figures: seconds, MiB/s of used data, bytes stored in the bucket.
// Rounds (--rounds, 3 by default) each start from a fresh filesystem and fresh repositories; medians are printed.
// --level N backs ours up at zstd level N instead of the repository default.
// Run: npm run bench:repo [-- --size-mib 1024 --fill-mib 600 --change packages --rounds 3 --level 6]
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { cephRgw } from '../test/helpers/ceph-rgw.js';
import { changeFiles, fillCommand } from './repo-data.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, 'fill-mib': { type: 'string', default: '600' }, change: { type: 'string', default: 'packages' }, rounds: { type: 'string', default: '3' }, level: { type: 'string' } } });
if (values.change !== 'packages' && values.change !== 'scattered') throw new Error(`--change must be 'packages' or 'scattered', got '${values.change}'`);
const MIB = 1024 * 1024;
const sizeMiB = Number(values['size-mib']);
const fillMiB = Number(values['fill-mib']);
const rounds = Number(values.rounds);
const sh = (command: string, env?: Record<string, string>) => execSync(command, { stdio: ['ignore', 'pipe', 'pipe'], shell: '/bin/bash', env: { ...process.env, ...env }, maxBuffer: 64 * MIB }).toString();
/** Wall seconds and CPU seconds (user + system, children included, from GNU time) of a shell command. */
const timed = (command: string, env: Record<string, string>) => {
  const started = performance.now();
  const out = execSync(`/usr/bin/time -f 'cpu %U %S' ${command} 2>&1 >/dev/null | tail -1`, { shell: '/bin/bash', env: { ...process.env, ...env }, maxBuffer: 64 * MIB }).toString();
  const seconds = (performance.now() - started) / 1000;
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(out);
  if (!cpu) throw new Error(`${command} failed: ${out}`);
  return { seconds, cpuSeconds: Number(cpu[1]) + Number(cpu[2]) };
};
const dropCaches = () => writeFileSync('/proc/sys/vm/drop_caches', '3');
const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-repo-'));
const image = join(dir, 'disk.img');
execFileSync('truncate', ['-s', `${sizeMiB}M`, image]);
const device = sh(`losetup --find --show ${image}`).trim();
const mnt = join(dir, 'mnt');
let mounted = false;
const mount = (options: string) => {
  sh(`mount -o ${options} ${device} ${mnt}`);
  mounted = true;
};
const unmount = () => {
  sh(`umount ${mnt}`);
  mounted = false;
};
await using rgw = await cephRgw({ bucket: 'bench' });
const s3 = new S3Client({ endpoint: rgw.endpoint, region: rgw.region, forcePathStyle: true, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey } });
/** Bytes stored under a prefix, in all and by the next folder (data/, index/, snapshots/, …). */
const bucketBytes = async (prefix: string) => {
  const byKind = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'bench', Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) {
      const kind = o.Key!.slice(prefix.length).split('/')[0]!;
      byKind.set(kind, (byKind.get(kind) ?? 0) + (o.Size ?? 0));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { total: [...byKind.values()].reduce((a, b) => a + b, 0), byKind };
};
type Row = { tool: string; round: number; generation: number; seconds: number; cpuSeconds: number; usedMiB: number; storedBytes: number; byKind: Map<string, number> };
const rows: Row[] = [];
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const usedMiB = () => Number(sh(`dumpe2fs -h ${device} 2>/dev/null | awk -F: '/^Block count/{b=$2} /^Free blocks/{f=$2} /^Block size/{s=$2} END{print (b-f)*s/1048576}'`));
const node = process.execPath;

/** One round: a fresh filesystem and fresh repositories, both generations; the tools take turns going first. */
async function round(r: number): Promise<void> {
  sh(`mkfs.ext4 -q -F ${device}`);
  mount('rw');
  // OS-like content: the machine's own /usr files, up to --fill-mib.
  sh(fillCommand(mnt, fillMiB));
  unmount();
  const env = { ...rgw.env, SHADOWDISK_HOME: join(dir, `state-${r}`), SHADOWDISK_PASSPHRASE: 'bench passphrase' };
  const resticEnv = { ...rgw.env, RESTIC_PASSWORD: 'bench passphrase', RESTIC_REPOSITORY: `s3:${rgw.endpoint}/bench/restic-${r}` };
  sh(`${node} bin/shadowdisk.js repo init s3://bench/shadowdisk-${r}`, env);
  sh('restic init', resticEnv);
  const ours = async (generation: number, used: number) => {
    dropCaches();
    const figures = timed(`${node} bin/shadowdisk.js image backup ${device} --repo s3://bench/shadowdisk-${r}${values.level !== undefined ? ` --level ${values.level}` : ''}`, env);
    const { total, byKind } = await bucketBytes(`shadowdisk-${r}/`);
    rows.push({ tool: 'shadowdisk', round: r, generation, ...figures, usedMiB: used, storedBytes: total, byKind });
  };
  const theirs = async (generation: number, used: number) => {
    mount('ro');
    dropCaches();
    const figures = timed(`restic backup --quiet ${mnt}`, resticEnv);
    unmount();
    const { total, byKind } = await bucketBytes(`restic-${r}/`);
    rows.push({ tool: 'restic', round: r, generation, ...figures, usedMiB: used, storedBytes: total, byKind });
  };
  for (const generation of [1, 2]) {
    if (generation === 2) {
      // ~10% of the files get other contents of the same size.
      mount('rw');
      changeFiles(mnt, values.change as 'packages' | 'scattered');
      unmount();
    }
    const used = usedMiB();
    for (const tool of r % 2 === 1 ? [ours, theirs] : [theirs, ours]) await tool(generation, used);
  }
}

try {
  mkdirSync(mnt);
  for (let r = 1; r <= rounds; r++) await round(r);
  console.log(`\nRepository backup to Ceph RGW S3 on 127.0.0.1: ext4 on a ${sizeMiB} MiB loop device, /usr files (~${fillMiB} MiB), generation 2 after 10% of the files changed (${values.change}); ${rounds} round(s), the tools taking turns going first`);
  console.log('tool        round gen   seconds   MiB/s   CPU s   stored MiB (bucket, cumulative)');
  for (const r of rows) console.log(`${r.tool.padEnd(11)} ${String(r.round).padStart(5)} ${String(r.generation).padStart(3)} ${r.seconds.toFixed(2).padStart(9)} ${(r.usedMiB / r.seconds).toFixed(1).padStart(7)} ${r.cpuSeconds.toFixed(1).padStart(7)} ${(r.storedBytes / MIB).toFixed(1).padStart(12)}`);
  for (const generation of [1, 2]) {
    const of = (tool: string) => rows.filter((r) => r.tool === tool && r.generation === generation);
    const [a, b] = [of('shadowdisk'), of('restic')];
    const [sa, sb] = [median(a.map((r) => r.seconds)), median(b.map((r) => r.seconds))];
    const [ba, bb] = [median(a.map((r) => r.storedBytes)), median(b.map((r) => r.storedBytes))];
    console.log(`generation ${generation} (medians): ours ${sa.toFixed(2)} s, restic ${sb.toFixed(2)} s: speed ${(sb / sa).toFixed(2)}x; stored ${(ba / MIB).toFixed(1)} vs ${(bb / MIB).toFixed(1)} MiB: ${(ba / bb).toFixed(3)}x`);
  }
  // Where the bytes are: data (packs) against metadata (indexes, snapshots and, for restic, its trees inside the packs).
  for (const r of rows.filter((r) => r.generation === 2 && r.round === 1)) {
    console.log(`${r.tool} stored by kind after generation 2 (round 1): ${[...r.byKind].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${(n / MIB).toFixed(2)} MiB`).join(', ')}`);
  }
} finally {
  s3.destroy();
  if (mounted) sh(`umount ${mnt}`);
  sh(`losetup --detach ${device}`);
  rmSync(dir, { recursive: true, force: true });
}
