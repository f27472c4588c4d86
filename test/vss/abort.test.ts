// A veto, a failure or a timeout in any phase aborts the whole set: writers abort, every filesystem is thawed, no
// snapshot, device or record is left, and the error names what happened. The probe writer and the stall provider are
// fixtures (test/vss/fixtures/vss-probe).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/index.js';
import { pool, vssHost, type Pool, type PoolVolume, type VssHost } from './vss-host.js';

const MiB = 1024 * 1024;
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** FIFREEZE succeeds only on a filesystem that is not frozen: freeze and thaw again as the judge. */
async function expectThawed(mountpoint: string): Promise<void> {
  await run('fsfreeze', ['--freeze', mountpoint]);
  await run('fsfreeze', ['--unfreeze', mountpoint]);
}

async function expectNothingLeft(vss: VssHost, p: Pool, volumes: PoolVolume[]): Promise<void> {
  for (const v of volumes) await expectThawed(v.mountpoint);
  expect(readdirSync(join(p.path, '.shadowdisk-snapshots'))).toEqual([]);
  expect(((await vss.command('list')) as { sets: unknown[] }).sets).toEqual([]);
  const loops = (await run('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE'])).stdout;
  expect(loops).not.toContain(join(p.path, '.shadowdisk-snapshots'));
}

describe('shadow set abort', () => {
  it('aborts on a veto at freeze with WRITER_VETOED: the writer aborts, nothing stays frozen, no snapshot is left', async () => {
    await using p = await pool();
    await using vss = await vssHost({ extraPluginRoots: [fixtures] });
    const volumes = [await p.volume('a', 32 * MiB, 'ext4'), await p.volume('b', 320 * MiB, 'xfs')];
    const log = join(p.path, 'probe.log');
    const writer = `probe:log=${log},veto=freeze`;
    await expect(vss.create(volumes.map((v) => v.mountpoint), { writer })).rejects.toMatchObject({
      code: 'WRITER_VETOED', message: expect.stringContaining(`Writer 'fixtures.vss-probe.probe' vetoed the shadow set at freeze: probe told to veto at freeze`),
    });
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['identify', 'prepare-backup', 'prepare-snapshot', 'freeze', 'abort']);
    await expectNothingLeft(vss, p, volumes);
  }, 60_000);

  it('aborts when a writer fails to thaw, removing the snapshots it had already taken, and names the writer and phase', async () => {
    await using p = await pool();
    await using vss = await vssHost({ extraPluginRoots: [fixtures] });
    const volumes = [await p.volume('a', 32 * MiB, 'ext4'), await p.volume('b', 32 * MiB, 'ext4')];
    await expect(vss.create(volumes.map((v) => v.device), { writer: 'probe:fail=thaw' })).rejects.toMatchObject({
      code: 'IO_ERROR', message: expect.stringMatching(/aborted at thaw: Writer 'fixtures.vss-probe.probe' failed at thaw: probe told to fail at thaw/),
    });
    await expectNothingLeft(vss, p, volumes);
  }, 60_000);

  it('times out a writer that does not freeze within the window (HOOK_TIMEOUT) and a commit that overruns the hold window (TIMEOUT)', async () => {
    await using p = await pool();
    await using vss = await vssHost({ extraPluginRoots: [fixtures] });
    const volumes = [await p.volume('a', 32 * MiB, 'ext4'), await p.volume('b', 32 * MiB, 'ext4')];
    const names = volumes.map((v) => v.mountpoint);
    const started = performance.now();
    await expect(vss.create(names, { writer: 'probe:stall=freeze', 'freeze-window-ms': '400' })).rejects.toMatchObject({ code: 'HOOK_TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(5000);
    await expectNothingLeft(vss, p, volumes);
    await expect(vss.create(names, { provider: 'stall', 'hold-window-ms': '300' })).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('300 ms window') });
    for (const v of volumes) await expectThawed(v.mountpoint);
    // The stall provider's planned snapshots (marker folders in the set's folder) were removed with the set.
    expect(readdirSync(join(vss.stateDir, 'plugins', 'shadowdisk.vss', 'sets'))).toEqual([]);
  }, 60_000);

  it('refuses a writer whose components lie outside the set, and keeps the files a writer stores with a complete set', async () => {
    await using p = await pool();
    await using vss = await vssHost({ extraPluginRoots: [fixtures] });
    const [a, b] = [await p.volume('a', 32 * MiB, 'ext4'), await p.volume('b', 32 * MiB, 'ext4')];
    await expect(vss.create([a!.mountpoint], { writer: `probe:paths=${b!.mountpoint}` })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`(${b!.mountpoint}) is on no volume of the set`) });
    const set = await vss.create([a!.mountpoint, b!.mountpoint], { writer: `probe:paths=${b!.mountpoint},keep=1` });
    expect(set.writers).toEqual([{ id: 'fixtures.vss-probe.probe', components: [{ name: 'c0', paths: [b!.mountpoint] }], files: ['probe.txt'] }]);
    expect(readFileSync(join(set.folder, 'probe.txt'), 'utf8')).toBe(`set ${set.id}\n`);
  }, 60_000);
});
