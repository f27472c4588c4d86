// Freeze window of shadow sets: p50 and p99 of flush-and-hold (first FIFREEZE to last FITHAW) and of the whole freeze
// (writers' freeze to their thaw) for sets of 1 and 4 ext4 volumes (loop devices on image files in an XFS pool, the
// reflink provider) while fio writes to every volume (4 KiB random writes, fsync every 16). Beside ours, the same cut
// done by a shell script with util-linux and coreutils (fsfreeze -f each, cp --reflink each, fsfreeze -u each).
// With --provider hotcore the volumes are attached through hot processing instead (the engine's switch is the commit),
// and the shell reference is fsfreeze -f / -u of each alone, the floor of any freeze-based cut.
// Run: npm run bench:vss [-- --sets 30 --size-mib 256 --provider reflink|hotcore --pool-dir DIR]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHost } from '../core/node/index.js';
import type { ShadowSetRecord } from '../plugins/vss/index.js';

const { values } = parseArgs({ options: { sets: { type: 'string', default: '30' }, 'size-mib': { type: 'string', default: '256' }, provider: { type: 'string', default: 'reflink' }, 'pool-dir': { type: 'string' } } });
const PROVIDER = values.provider;
if (PROVIDER !== 'reflink' && PROVIDER !== 'hotcore') throw new Error(`--provider must be reflink or hotcore, not ${PROVIDER}`);
const SETS = Number(values.sets);
const SIZE_MIB = Number(values['size-mib']);

const sh = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8' }).trim();

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

// --pool-dir /dev/shm puts the pool's image file in memory: what is left of the hold is then the kernel's freeze and
// our own work, without this VM's disk under three layers of files and loop devices.
const root = mkdtempSync(join(values['pool-dir'] ?? tmpdir(), 'shadowdisk-bench-vss-'));
const cleanups: (() => unknown)[] = [];
const undo = (fn: () => unknown) => cleanups.push(fn);
const rows: string[][] = [];
try {
  const poolImage = join(root, 'pool.img');
  sh('truncate', ['-s', `${4 * SIZE_MIB + 1024}M`, poolImage]);
  const poolLoop = sh('losetup', ['--find', '--show', poolImage]);
  undo(() => sh('losetup', ['--detach', poolLoop]));
  sh('mkfs.xfs', ['-f', '-q', poolLoop]);
  const pool = join(root, 'pool');
  mkdirSync(pool);
  sh('mount', [poolLoop, pool]);
  undo(() => sh('umount', [pool]));
  const host = await createHost({ stateDir: join(root, 'state'), logSink: () => undefined });
  undo(() => host[Symbol.asyncDispose]());
  const diffDir = join(root, 'diff'); // another filesystem than the volumes' pool, as hot processing asks
  mkdirSync(diffDir);
  const volumes: { device: string; mountpoint: string; image: string }[] = [];
  for (let i = 0; i < 4; i++) {
    const image = join(pool, `v${i}.img`);
    sh('truncate', ['-s', `${SIZE_MIB}M`, image]);
    let device: string;
    if (PROVIDER === 'hotcore') {
      device = ((await host.executeCommand('shadowdisk.hot-processing.attach', { positionals: [image], options: { 'diff-dir': diffDir } })).data as { device: string }).device;
      undo(() => host.executeCommand('shadowdisk.hot-processing.detach', { positionals: [device] }));
    } else {
      device = sh('losetup', ['--find', '--show', image]);
      undo(() => sh('losetup', ['--detach', device]));
    }
    // Inode tables and journal written now, not by ext4lazyinit in the background during the measured sets.
    sh('mkfs.ext4', ['-F', '-q', '-E', 'lazy_itable_init=0,lazy_journal_init=0', device]);
    const mountpoint = join(root, `v${i}`);
    mkdirSync(mountpoint);
    sh('mount', [device, mountpoint]);
    undo(() => sh('umount', [mountpoint]));
    volumes.push({ device, mountpoint, image });
  }
  const fioJob = (v: { mountpoint: string }) => ['--name=load', `--directory=${v.mountpoint}`, '--rw=randwrite', '--bs=4k', `--size=${Math.floor(SIZE_MIB / 2)}M`, '--ioengine=psync', '--fsync=16', '--thread'];
  // fio lays its files out first (sequential writes): done before the load starts, so no set meets that burst.
  for (const v of volumes) sh('fio', [...fioJob(v), '--create_only=1']);
  sh('sync', []);
  const load: ChildProcess[] = volumes.map((v) => spawn('fio', [...fioJob(v), '--time_based', '--runtime=86400'], { stdio: 'ignore' }));
  undo(() => {
    load.forEach((p) => p.kill('SIGKILL'));
    sh('sleep', ['1']);
  });
  await new Promise((r) => setTimeout(r, 3000));
  {
    for (const count of [1, 4]) {
      const names = volumes.slice(0, count).map((v) => v.mountpoint);
      const hold: number[] = [];
      const freeze: number[] = [];
      const parts: string[] = [];
      for (let i = 0; i < SETS; i++) {
        const set = (await host.executeCommand('shadowdisk.vss.create', { positionals: names })).data as ShadowSetRecord;
        hold.push(set.timings!.flushAndHoldMs);
        freeze.push(set.timings!.writersFreezeMs);
        const { freezeMs, commitMs, thawMs } = set.timings!.holdParts;
        parts.push(`${freezeMs}/${commitMs}/${thawMs}`);
        await host.executeCommand('shadowdisk.vss.delete', { positionals: [set.id] });
      }
      if (process.env['SHADOWDISK_BENCH_VERBOSE']) console.log(`${count}: hold parts freeze/commit/thaw ms: ${parts.join(' ')}`);
      // The reference: the same cut by hand, timed around the shell commands (process start-up included, as a script pays it).
      const reference: number[] = [];
      for (let i = 0; i < Math.min(SETS, 10); i++) {
        const started = performance.now();
        for (const mp of names) sh('fsfreeze', ['--freeze', mp]);
        if (PROVIDER === 'reflink') volumes.slice(0, count).forEach((v, n) => sh('cp', ['--reflink=always', v.image, join(pool, `ref-${n}.img`)]));
        for (const mp of names) sh('fsfreeze', ['--unfreeze', mp]);
        reference.push(performance.now() - started);
        if (PROVIDER === 'reflink') volumes.slice(0, count).forEach((_, n) => rmSync(join(pool, `ref-${n}.img`)));
      }
      rows.push([`${count} volume${count > 1 ? 's' : ''}`, percentile(hold, 50).toFixed(1), percentile(hold, 99).toFixed(1), percentile(freeze, 50).toFixed(1), percentile(freeze, 99).toFixed(1),
        percentile(reference, 50).toFixed(1), percentile(reference, 99).toFixed(1), (percentile(hold, 50) / percentile(reference, 50)).toFixed(2)]);
    }
  }
} finally {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (error) {
      process.stderr.write(`cleanup: ${(error as Error).message}\n`);
    }
  }
  rmSync(root, { recursive: true, force: true });
}
const header = ['set', 'hold p50 ms', 'hold p99 ms', 'freeze p50 ms', 'freeze p99 ms', 'shell p50 ms', 'shell p99 ms', 'hold/shell p50'];
console.log(`${SETS} sets each, ${SIZE_MIB} MiB ext4 volumes on an XFS pool in ${values['pool-dir'] ?? tmpdir()} (${PROVIDER === 'hotcore' ? 'attached through hot processing, provider hotcore; shell: fsfreeze alone' : 'loop devices, provider reflink; shell: fsfreeze + cp --reflink'}), fio 4k randwrite (fsync every 16) on every volume`);
console.log(header.join(' | '));
for (const row of rows) console.log(row.join(' | '));
