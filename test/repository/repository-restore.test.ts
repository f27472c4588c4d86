// `image restore --repo`: each pack downloaded once (the verify pass spools the sealed chunks under the state directory
// and the write pass reads them back), the two-pass read when the state directory has no room for the spool, a
// damaged pack refusing the restore with nothing written, and the restore journal of an interrupted restore.
import { watch } from 'node:fs';
import { cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { loopDevice, mkfs, mount, sparseImage, type TempDir } from '../helpers/index.js';
import { localRepository, type LocalRepository } from './local-repository.js';
import { ok, sha256Of, shadowdisk } from './repository-cli.js';

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;

let fixture: LocalRepository;
let state: TempDir;
let scratch: TempDir;
let host: ShadowdiskHost;
let diskHash: string;
let repoDir: string;
let passFile: string;
let snapshot: string;

interface Reads { mode: string; reason?: string; downloadedBytes: number; spoolBytes: number }

const restore = (on: ShadowdiskHost, repository: string, target: string, options: Record<string, string | boolean> = {}) =>
  on.executeCommand('shadowdisk.backup.image-restore', { positionals: [snapshot, target], options: { repo: repository, 'passphrase-file': passFile, yes: true, ...options } });

async function packBytes(root: string): Promise<{ total: number; packs: string[] }> {
  const packs = (await readdir(join(root, 'data'), { recursive: true })).filter((p) => p.length > 3).map((p) => join(root, 'data', p));
  let total = 0;
  for (const p of packs) total += (await stat(p)).size;
  return { total, packs };
}

/** Every file under `dir`, recursively (the spool folder must be empty after a restore). */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  fixture = await localRepository({ diskBytes: DISK_BYTES, packages: 10, passphrase: 'restore me' });
  ({ state, scratch, host, repoDir, passFile, snapshot } = fixture);
  diskHash = await sha256Of(fixture.disk.path);
}, 120_000);

afterAll(async () => {
  await fixture?.[Symbol.asyncDispose]();
});

describe('image restore --repo', () => {
  it('downloads each pack at most once through the spool and restores the disk byte-equal, leaving no spool behind', async () => {
    await using target = await sparseImage(DISK_BYTES);
    await using loop = await loopDevice(target.path);
    const result = await restore(host, `file://${repoDir}`, loop.path);
    const reads = (result.data as { reads: Reads }).reads;
    const { total } = await packBytes(repoDir);
    expect(reads.mode).toBe('spool');
    expect(reads.spoolBytes).toBeGreaterThan(0);
    expect(reads.downloadedBytes).toBeGreaterThanOrEqual(reads.spoolBytes);
    expect(reads.downloadedBytes).toBeLessThanOrEqual(total);
    expect(result.text).toContain('each pack downloaded once');
    expect(await sha256Of(loop.path, DISK_BYTES)).toBe(diskHash);
    expect(await filesUnder(state.path)).not.toContainEqual(expect.stringMatching(/\.spool$/));
  }, 120_000);

  it('reads every chunk twice when the state directory has no room for the spool, says so, and restores byte-equal', async () => {
    // A 32 MiB filesystem as the state directory: less free than the spool and its headroom need.
    await using small = await sparseImage(32 * MiB);
    await mkfs(small.path, 'ext4');
    await using smallLoop = await loopDevice(small.path);
    await using smallState = await mount(smallLoop.path);
    await using cramped = await createHost({ stateDir: smallState.mountpoint, logSink: () => undefined });
    await using target = await sparseImage(DISK_BYTES);
    const result = await restore(cramped, `file://${repoDir}`, target.path);
    const reads = (result.data as { reads: Reads }).reads;
    expect(reads.mode).toBe('repository');
    expect(reads.reason).toMatch(/free but the spool needs/);
    expect(result.text).toContain('every chunk downloaded twice');
    expect(reads.downloadedBytes).toBeGreaterThan((await packBytes(repoDir)).total * 1.5);
    expect(await sha256Of(target.path, DISK_BYTES)).toBe(diskHash);
  }, 120_000);

  it('refuses to restore from a pack with a flipped byte, naming it, with nothing written and no spool left', async () => {
    const damaged = join(scratch.path, 'repo-damaged');
    await cp(repoDir, damaged, { recursive: true });
    const { packs } = await packBytes(damaged);
    // The last pack: the verify pass has spooled earlier packs' chunks by the time it meets the damage.
    const pack = packs.sort().at(-1)!;
    const bytes = await readFile(pack);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await writeFile(pack, bytes);
    await using target = await sparseImage(DISK_BYTES);
    await using loop = await loopDevice(target.path);
    const untouched = await sha256Of(loop.path, DISK_BYTES);
    const failure = await restore(host, `file://${damaged}`, loop.path).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: expect.stringMatching(/^IMAGE_(CORRUPT|TAMPERED)$/), message: expect.stringContaining(pack.slice(damaged.length + 1)) });
    expect(await sha256Of(loop.path, DISK_BYTES)).toBe(untouched);
    expect(await filesUnder(state.path)).not.toContainEqual(expect.stringMatching(/\.spool$/));
    expect((await ok({ SHADOWDISK_HOME: state.path }, 'image', 'restore', '--status'))['interrupted']).toEqual([]);
  }, 120_000);

  it('records a restore killed mid-way: --status shows it, backing up the half-restored disk is refused, and the same restore finishes it', async () => {
    await using target = await sparseImage(DISK_BYTES);
    await using loop = await loopDevice(target.path);
    const env = { SHADOWDISK_HOME: state.path };
    const repo = `file://${repoDir}`;
    // The journal folder exists since the first restore; the restore is killed as soon as it writes its journal
    // (after the verify pass, before the first byte of the target).
    const journalDir = join(state.path, (await readdir(state.path, { recursive: true })).find((p) => p.endsWith('restore-journal'))!);
    let journalWritten!: () => void;
    const written = new Promise<void>((resolve) => (journalWritten = resolve));
    // The journal is written to a temporary name and renamed: the kill waits for the real name.
    const watcher = watch(journalDir, (_event, name) => {
      if (name?.endsWith('.json')) journalWritten();
    });
    const victim = shadowdisk(env, 'image', 'restore', '--repo', repo, snapshot.slice(0, 12), loop.path, '--yes', '--passphrase-file', passFile);
    try {
      await Promise.race([written, victim.done]);
    } finally {
      watcher.close();
      victim.child.kill('SIGKILL');
    }
    const killed = await victim.done;
    expect(killed.signal, killed.stderr.slice(-2000)).toBe('SIGKILL');

    const [report] = (await ok(env, 'image', 'restore', '--status'))['interrupted'] as { target: string; source: string; repository: string; interruptedBy: unknown; rerun: string; message: string }[];
    expect(report).toMatchObject({ target: loop.path, source: snapshot, repository: repo, interruptedBy: null, rerun: `shadowdisk image restore --repo ${repo} ${snapshot} ${loop.path} --yes --passphrase-file FILE` });
    expect(report!.message).toContain(`${loop.path} holds an incomplete restore of snapshot ${snapshot.slice(0, 8)} from the repository ${repo}`);

    const toRepo = await host.executeCommand('shadowdisk.backup.image-backup', { positionals: [loop.path], options: { repo, 'passphrase-file': passFile } }).catch((e: unknown) => e);
    expect(toRepo).toMatchObject({ code: 'RECOVERY_NEEDED', message: expect.stringContaining(`Cannot back up ${loop.path}`) });
    const toFile = await host.executeCommand('shadowdisk.backup.image-backup', { positionals: [loop.path, join(scratch.path, 'half.sdimg')] }).catch((e: unknown) => e);
    expect(toFile).toMatchObject({ code: 'RECOVERY_NEEDED' });

    const rerun = await restore(host, repo, loop.path);
    expect(rerun.data).toMatchObject({ interruptedBefore: { target: loop.path, source: snapshot, repository: repo } });
    expect(rerun.text).toContain('this finished the restore interrupted');
    expect((await ok(env, 'image', 'restore', '--status'))['interrupted']).toEqual([]);
    expect(await sha256Of(loop.path, DISK_BYTES)).toBe(diskHash);
  }, 120_000);
});
