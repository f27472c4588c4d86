// Restores from a repository: `image restore --repo` reading each pack once through the restore spool (the default)
// beside the earlier two-pass read (`--no-spool`: verify every chunk, then download it again to write it), and Debian's
// restic restoring the same files, from a local folder repository and from one single-node Ceph RGW, in one run.
// With --before-cli DIR (a built checkout of an earlier commit, e.g. a git worktree), that build's restore too.
// Figures: seconds (the median of --repeat runs, caches dropped before each), MiB/s of used data, bytes downloaded.
// Run: npm run bench:repo-restore [-- --size-mib 1024 --fill-mib 260 --repeat 3 --before-cli /tmp/old-checkout]
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cephRgw } from '../test/helpers/ceph-rgw.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, 'fill-mib': { type: 'string', default: '260' }, 'before-cli': { type: 'string' }, repeat: { type: 'string', default: '3' } } });
const repeat = Number(values.repeat);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MIB = 1024 * 1024;
const sizeMiB = Number(values['size-mib']);
const fillMiB = Number(values['fill-mib']);
const sh = (command: string, env?: Record<string, string>) => execSync(command, { stdio: ['ignore', 'pipe', 'pipe'], shell: '/bin/bash', env: { ...process.env, ...env }, maxBuffer: 64 * MIB }).toString();
const timed = <T>(fn: () => T): [number, T] => {
  const started = performance.now();
  const result = fn();
  return [(performance.now() - started) / 1000, result];
};
const dropCaches = () => writeFileSync('/proc/sys/vm/drop_caches', '3');

const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-restore-'));
const devices: string[] = [];
const attach = (file: string) => {
  sh(`truncate -s ${sizeMiB}M ${file}`);
  const device = sh(`losetup --find --show ${file}`).trim();
  devices.push(device);
  return device;
};
const source = attach(join(dir, 'source.img'));
const target = attach(join(dir, 'target.img'));
const mnt = join(dir, 'mnt');
let mounted = false;
await using rgw = await cephRgw({ bucket: 'bench' });
try {
  sh(`mkfs.ext4 -q -F ${source}`);
  mkdirSync(mnt);
  sh(`mount ${source} ${mnt}`);
  mounted = true;
  // OS-like content: the machine's own /usr files, up to --fill-mib.
  sh(`cd / && find usr/share usr/lib/x86_64-linux-gnu -type f -size -64M 2>/dev/null | head -200000 | tar -cf - -T - 2>/dev/null | (cd ${mnt} && head -c ${fillMiB * MIB} | tar -xf - 2>/dev/null); true`);
  sh(`umount ${mnt}`);
  mounted = false;
  const usedMiB = Number(sh(`dumpe2fs -h ${source} 2>/dev/null | awk -F: '/^Block count/{b=$2} /^Free blocks/{f=$2} /^Block size/{s=$2} END{print (b-f)*s/1048576}'`));
  const sourceHash = sh(`sha256sum ${source}`).split(' ')[0];

  const node = process.execPath;
  const env = { ...rgw.env, SHADOWDISK_HOME: join(dir, 'state'), SHADOWDISK_PASSPHRASE: 'bench passphrase' };
  const rows: { where: string; how: string; seconds: number; downloadedBytes: number; equal: string }[] = [];
  for (const [where, repo, restic] of [['local', `file://${join(dir, 'repo')}`, join(dir, 'restic')], ['Ceph RGW', 's3://bench/shadowdisk', `s3:${rgw.endpoint}/bench/restic`]] as const) {
    sh(`${node} bin/shadowdisk.js repo init ${repo}`, env);
    sh(`${node} bin/shadowdisk.js image backup ${source} --repo ${repo}`, env);
    const readers = [
      ...(values['before-cli'] ? [[`earlier build (${values['before-cli']})`, join(values['before-cli'], 'bin/shadowdisk.js'), ''] as const] : []),
      ['two-pass (--no-spool)', 'bin/shadowdisk.js', '--no-spool'] as const,
      ['read once (spool)', 'bin/shadowdisk.js', ''] as const,
    ];
    const runs = new Map<string, { seconds: number[]; downloadedBytes: number; mode?: string; equal: string }>();
    // Interleaved, so a burst of load on the machine falls on every reader alike.
    for (let round = 0; round < repeat; round++) {
      for (const [how, cli, flag] of readers) {
        sh(`blkdiscard ${target} 2>/dev/null || dd if=/dev/zero of=${target} bs=1M status=none`);
        dropCaches();
        const [seconds, out] = timed(() => sh(`${node} ${cli} image restore --repo ${repo} latest ${target} --yes --json ${flag}`, env));
        const result = JSON.parse(out) as { reads?: { downloadedBytes: number; mode: string } };
        const equal = sh(`sha256sum ${target}`).split(' ')[0] === sourceHash ? 'yes' : 'NO';
        const seen = runs.get(how) ?? { seconds: [], downloadedBytes: result.reads?.downloadedBytes ?? NaN, ...(result.reads ? { mode: result.reads.mode } : {}), equal };
        seen.seconds.push(seconds);
        if (equal !== 'yes') seen.equal = equal;
        runs.set(how, seen);
      }
    }
    for (const [how, , flag] of readers) {
      const seen = runs.get(how)!;
      rows.push({ where, how: `${how}${seen.mode === 'repository' && !flag ? ' [fell back]' : ''}`, seconds: median(seen.seconds), downloadedBytes: seen.downloadedBytes, equal: seen.equal });
    }
    const resticEnv = { ...rgw.env, RESTIC_PASSWORD: 'bench passphrase', RESTIC_REPOSITORY: restic };
    sh('restic init', resticEnv);
    sh(`mount -o ro,noload ${source} ${mnt}`);
    mounted = true;
    sh(`restic backup --quiet ${mnt}`, resticEnv);
    sh(`umount ${mnt}`);
    mounted = false;
    const out = join(dir, 'restic-out');
    rmSync(out, { recursive: true, force: true });
    const seconds: number[] = [];
    for (let round = 0; round < repeat; round++) {
      dropCaches();
      seconds.push(timed(() => sh(`restic restore latest --target ${out}`, resticEnv))[0]);
      rmSync(out, { recursive: true, force: true });
    }
    rows.push({ where, how: 'restic restore (files)', seconds: median(seconds), downloadedBytes: NaN, equal: '-' });
  }
  console.log(`\nRestore from a repository: ext4 on a ${sizeMiB} MiB loop device, ${usedMiB.toFixed(0)} MiB used (/usr files), onto a loop device; restic restores the same files into a folder; median of ${repeat}`);
  console.log('| repository | reader | seconds | MiB/s of used data | downloaded | restored equal |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.where} | ${r.how} | ${r.seconds.toFixed(1)} | ${(usedMiB / r.seconds).toFixed(1)} | ${Number.isNaN(r.downloadedBytes) ? '-' : `${(r.downloadedBytes / MIB).toFixed(1)} MiB`} | ${r.equal} |`);
  for (const where of ['local', 'Ceph RGW']) {
    const of = (how: string) => rows.find((r) => r.where === where && r.how.startsWith(how))!;
    const [earlier, twoPass, after, restic] = [rows.find((r) => r.where === where && r.how.startsWith('earlier')), of('two-pass'), of('read once'), of('restic')];
    console.log(`${where}: read once ${(twoPass.seconds / after.seconds).toFixed(2)}x the speed of two-pass, downloading ${(after.downloadedBytes / twoPass.downloadedBytes).toFixed(2)}x the bytes;${earlier ? ` ${(earlier.seconds / after.seconds).toFixed(2)}x the earlier build's speed;` : ''} ${(restic.seconds / after.seconds).toFixed(2)}x restic's speed`);
  }
} finally {
  if (mounted) sh(`umount ${mnt}`);
  for (const device of devices) sh(`losetup --detach ${device}`);
  rmSync(dir, { recursive: true, force: true });
}
