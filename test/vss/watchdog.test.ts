// kill -9 of the coordinator while the set is frozen: the thaw watchdog (its own process) thaws every filesystem
// within 2 s, and the interrupted set is left as 'creating' for 'shadow delete' to remove. The coordinator is the
// compiled CLI (npm run build:ts) with the stall provider fixture, whose commit never finishes.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/index.js';
import { pool, vssHost } from './vss-host.js';

const MiB = 1024 * 1024;
const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cli = join(repo, 'dist/core/node/cli/run.js');

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether the filesystem is frozen: a second FIFREEZE fails with EBUSY (a successful probe is undone at once). */
async function isFrozen(mountpoint: string): Promise<boolean> {
  const { code } = await run('fsfreeze', ['--freeze', mountpoint], { allowFailure: true });
  if (code === 0) await run('fsfreeze', ['--unfreeze', mountpoint]);
  return code !== 0;
}

describe('thaw watchdog', () => {
  it('thaws every filesystem of the set within 2 s of a kill -9 of the coordinator, and the partial set can be deleted', async () => {
    if (!existsSync(join(repo, 'dist/plugins/vss/thaw-watchdog.js'))) throw new Error(`The compiled CLI is missing (${cli}); run 'npm run build:ts' first`);
    await using p = await pool();
    await using vss = await vssHost({ extraPluginRoots: [fixtures] });
    const volumes = [await p.volume('a', 32 * MiB, 'ext4'), await p.volume('b', 32 * MiB, 'ext4')];
    const coordinator = spawn(process.execPath, [cli, 'shadow', 'create', ...volumes.map((v) => v.mountpoint), '--provider', 'stall', '--hold-window-ms', '60000', '--json'], {
      env: { ...process.env, SHADOWDISK_HOME: vss.stateDir, SHADOWDISK_PLUGIN_PATH: fixtures }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    coordinator.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => coordinator.once('exit', () => resolve()));
    try {
      const setsDir = join(vss.stateDir, 'plugins', 'shadowdisk.vss', 'sets');
      await until(`the stall provider's commit (coordinator stderr: ${stderr})`, 45_000, () => {
        const sets = existsSync(setsDir) ? readdirSync(setsDir) : [];
        return sets.some((s) => readdirSync(join(setsDir, s)).some((m) => existsSync(join(setsDir, s, m, 'committing')))) ? true : undefined;
      });
      for (const v of volumes) expect(await isFrozen(v.mountpoint), `${v.mountpoint} is frozen during the commit`).toBe(true);
      // A write on A waits for the thaw.
      const write = run('sh', ['-c', `echo after > ${volumes[0]!.mountpoint}/after-kill && sync -f ${volumes[0]!.mountpoint}/after-kill`]);
      await new Promise((r) => setTimeout(r, 100));
      const killedAt = performance.now();
      coordinator.kill('SIGKILL');
      await write;
      const writableAfterMs = performance.now() - killedAt;
      for (const v of volumes) await until(`${v.mountpoint} to thaw`, 2000, async () => ((await isFrozen(v.mountpoint)) ? undefined : true));
      const thawedAfterMs = performance.now() - killedAt;
      console.log(`kill -9 of the coordinator: a blocked write on A finished after ${writableAfterMs.toFixed(0)} ms, both volumes thawed after ${thawedAfterMs.toFixed(0)} ms`);
      expect(thawedAfterMs).toBeLessThan(2000);
    } finally {
      coordinator.kill('SIGKILL');
      await exited;
    }
    const { sets } = (await vss.command('list')) as { sets: { id: string; state: string }[] };
    expect(sets).toEqual([expect.objectContaining({ state: 'creating' })]);
    await vss.command('delete', [sets[0]!.id]);
    expect(((await vss.command('list')) as { sets: unknown[] }).sets).toEqual([]);
    expect(readdirSync(join(vss.stateDir, 'plugins', 'shadowdisk.vss', 'sets'))).toEqual([]);
  }, 90_000);
});
