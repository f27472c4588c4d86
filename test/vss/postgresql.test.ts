// PostgreSQL under pgbench, its data directory on volume A and pg_wal on volume B: each round images a shadow set of
// both with the PostgreSQL writer (shadow backup: image backup of each snapshot device), restores the images to fresh volumes,
// starts PostgreSQL there and judges it: recovery completes, sum(abalance) of pgbench_accounts equals sum(delta) of
// pgbench_history, and every transaction committed before the set began is there. SHADOWDISK_VSS_PG_ROUNDS sets the
// number of rounds (CI keeps 1; `npm run bench:vss-postgresql` runs 5).
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShadowdiskHost } from '../../core/node/index.js';
import { loopDevice, mount, run, sparseImage, tempDir } from '../helpers/index.js';
import { initCluster, postgresBin, startCluster, serverLog } from './postgres-cluster.js';
import { pool, vssHost } from './vss-host.js';

const MiB = 1024 * 1024;
const ROUNDS = Number(process.env['SHADOWDISK_VSS_PG_ROUNDS'] ?? 1);

/** An image restored into a fresh file of the volume's size, mounted through a loop device. */
async function restoredVolume(host: ShadowdiskHost, image: string, sizeBytes: number, dir: string, name: string): Promise<{ mountpoint: string } & AsyncDisposable> {
  const stack = new AsyncDisposableStack();
  try {
    const target = stack.use(await sparseImage(sizeBytes, { dir, name: `${name}.restored` }));
    await host.executeCommand('shadowdisk.backup.image-restore', { positionals: [image, target.path], options: { yes: true } });
    const loop = stack.use(await loopDevice(target.path));
    const mounted = stack.use(await mount(loop.path));
    const moved = stack.move();
    return { mountpoint: mounted.mountpoint, [Symbol.asyncDispose]: () => moved.disposeAsync() };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

const BALANCED = 'SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT coalesce(sum(delta), 0) FROM pgbench_history)';

describe('PostgreSQL writer', () => {
  it(`takes data and pg_wal on two volumes under pgbench to one instant that restores and recovers consistent (${ROUNDS} rounds)`, async () => {
    await using p = await pool();
    await using vss = await vssHost();
    await using scratch = await tempDir('shadowdisk-pg-');
    const a = await p.volume('a', 160 * MiB, 'ext4');
    const b = await p.volume('b', 160 * MiB, 'ext4');
    await initCluster(join(a.mountpoint, 'pgdata'), join(b.mountpoint, 'pg_wal'));
    await using cluster = await startCluster(join(a.mountpoint, 'pgdata'));
    await run('pgbench', ['-i', '-q', '-s', '2', '-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres', 'postgres']);
    const bench = spawn(join(postgresBin(), 'pgbench'), ['-n', '-c', '2', '-j', '1', '-T', '600', '-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres', 'postgres'], { stdio: 'ignore' });
    const benchDone = new Promise<void>((resolve) => bench.once('exit', () => resolve()));
    try {
      await new Promise((r) => setTimeout(r, 1500));
      for (let round = 0; round < ROUNDS; round++) {
        const before = Number(await cluster.query('SELECT count(*) FROM pgbench_history'));
        const folder = join(scratch.path, `backup-${round}`);
        const backup = (await vss.command('backup', [a.mountpoint, b.mountpoint, folder], { writer: `postgresql:host=${cluster.socketDir},port=${cluster.port}` })) as {
          set: string; kept: boolean; images: { image: string }[]; writers: { id: string; files: string[]; components: { name: string }[] }[]; timings: { flushAndHoldMs: number; writersFreezeMs: number };
        };
        const after = Number(await cluster.query('SELECT count(*) FROM pgbench_history'));
        expect(backup.kept).toBe(false);
        expect(((await vss.command('list')) as { sets: unknown[] }).sets).toEqual([]);
        expect(backup.writers[0]).toMatchObject({ id: 'shadowdisk.vss-postgresql.postgresql', files: ['backup_label', 'backup-stop.json'] });
        expect(readFileSync(join(folder, 'writers', 'shadowdisk.vss-postgresql.postgresql', 'backup_label'), 'utf8')).toMatch(new RegExp(`^START WAL LOCATION: .*\\nLABEL: shadowdisk set ${backup.set}\\n`, 'ms'));
        expect(backup.writers[0]!.components.map((c) => c.name)).toEqual(['data', 'wal']);
        {
          await using ra = await restoredVolume(vss.host, backup.images[0]!.image, 160 * MiB, scratch.path, `a${round}`);
          await using rb = await restoredVolume(vss.host, backup.images[1]!.image, 160 * MiB, scratch.path, `b${round}`);
          const dataDir = join(ra.mountpoint, 'pgdata');
          // A restore to other mountpoints: pg_wal follows volume B to its new place; the copied postmaster.pid names the
          // live server's process, so it goes (as for any snapshot-based restore).
          rmSync(join(dataDir, 'pg_wal'));
          symlinkSync(join(rb.mountpoint, 'pg_wal'), join(dataDir, 'pg_wal'));
          rmSync(join(dataDir, 'postmaster.pid'));
          await using restored = await startCluster(dataDir);
          const log = serverLog(restored);
          expect(log).toMatch(/database system was interrupted|was not properly shut down/);
          expect(log).toMatch(/redo done at/);
          expect(await restored.query(BALANCED)).toBe('t');
          const kept = Number(await restored.query('SELECT count(*) FROM pgbench_history'));
          expect(kept).toBeGreaterThanOrEqual(before);
          expect(kept).toBeLessThanOrEqual(after);
          console.log(`round ${round}: ${before} history rows before the set, ${kept} in the restored images, ${after} after; flush-and-hold ${backup.timings.flushAndHoldMs} ms, writers frozen ${backup.timings.writersFreezeMs} ms`);
          await restored.stop();
        }
        rmSync(folder, { recursive: true });
      }
      expect(bench.exitCode).toBeNull();
    } finally {
      bench.kill('SIGINT');
      await benchDone;
    }
    expect(await cluster.query(BALANCED)).toBe('t');
  }, 240_000);
});
