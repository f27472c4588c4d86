// Snapshots keep their chunk lists in list blobs (plugins/backup/repository/chunk-lists.ts): a second generation
// references the runs of the list that did not change, and a damaged list blob is named by `repo check` with the
// snapshot that needs it, while a restore of that snapshot refuses before writing.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShadowdiskHost } from '../../core/node/index.js';
import { LocalObjectStore } from '../../plugins/backup/repository/object-store.js';
import { packKey, Repository, snapshotKey } from '../../plugins/backup/repository/repository.js';
import { loopDevice, sparseImage } from '../helpers/index.js';
import { localRepository, type LocalRepository } from './local-repository.js';
import { sha256Of } from './repository-cli.js';

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;
const PASSPHRASE = 'list me';

let fixture: LocalRepository;
let host: ShadowdiskHost;

const command = (name: string, positionals: string[], options: Record<string, string | boolean> = {}, repo = fixture.repo) =>
  host.executeCommand(`shadowdisk.backup.${name}`, { positionals, options: { repo, 'passphrase-file': fixture.passFile, ...options } });

async function withRepository<T>(dir: string, use: (repository: Repository) => Promise<T>): Promise<T> {
  const repository = await Repository.open(new LocalObjectStore(dir), PASSPHRASE);
  try {
    return await use(repository);
  } finally {
    await repository.close();
  }
}

beforeAll(async () => {
  fixture = await localRepository({ diskBytes: DISK_BYTES, packages: 8, passphrase: PASSPHRASE });
  host = fixture.host;
}, 120_000);

afterAll(async () => {
  await fixture?.[Symbol.asyncDispose]();
});

describe('snapshot chunk lists', () => {
  it('are stored as list blobs that a second backup of the unchanged disk references again, uploading nothing', async () => {
    const again = await command('image-backup', [fixture.disk.path]);
    expect(again.data).toMatchObject({ newChunks: 0, uploadedBytes: 0 });
    await withRepository(fixture.repoDir, async (repository) => {
      const [first, second] = [await repository.readSnapshot(fixture.snapshot), await repository.readSnapshot((again.data as { snapshot: string }).snapshot)];
      expect(second.streams).toEqual(first.streams);
      expect(second.lists!.length).toBeGreaterThan(0);
      expect(second.lists).toEqual(first.lists);
      // The stored object names list blobs only: no chunk ids of its own.
      const stored = await repository.readJson<{ version: number; streams: Record<string, unknown>[] }>(snapshotKey(first.id), 'snapshot');
      expect(stored.version).toBe(2);
      // A version 2 repository names chunks by 16-byte ids.
      expect(repository.config.version).toBe(2);
      for (const id of [...first.lists!, ...first.streams.flatMap((st) => st.chunks.map(([chunk]) => chunk))]) expect(id).toMatch(/^[0-9a-f]{32}$/);
      for (const stream of stored.streams) expect(Object.keys(stream).sort()).toEqual(['id', 'lists']);
    });
    await expect(command('repo-check', [fixture.repo], { 'read-data-subset': '100%' }, undefined)).resolves.toMatchObject({ data: { ok: true, snapshots: 2 } });
    // 'latest' is found from the snapshot objects alone, then read whole.
    await expect(command('image-verify', ['latest'])).resolves.toMatchObject({ data: { snapshot: (again.data as { snapshot: string }).snapshot, ok: true } });
  }, 120_000);

  it('damaged: repo list still lists the snapshot, repo check names the list blob\'s pack and the snapshot, and a restore refuses with nothing written', async () => {
    const damaged = join(fixture.scratch.path, 'repo-damaged-list');
    await cp(fixture.repoDir, damaged, { recursive: true });
    const pack = await withRepository(damaged, async (repository) => {
      const snapshot = await repository.readSnapshot(fixture.snapshot);
      const at = (await repository.chunkIndex()).get(snapshot.lists![0]!)!;
      const path = join(damaged, packKey(at.pack));
      const bytes = await readFile(path);
      bytes[at.offset + Math.floor(at.length / 2)]! ^= 0x02;
      await writeFile(path, bytes);
      return packKey(at.pack);
    });
    const repo = `file://${damaged}`;
    // repo list reads snapshot objects only: it still lists the snapshot, with the chunk count its lists hold.
    const chunkCount = await withRepository(fixture.repoDir, async (repository) => (await repository.readSnapshot(fixture.snapshot)).streams.reduce((n, st) => n + st.chunks.length, 0));
    const listed = (await command('repo-list', [repo], {}, repo)).data as { snapshots: { id: string; chunks: number }[] };
    expect(listed.snapshots.find((s) => s.id === fixture.snapshot)).toMatchObject({ chunks: chunkCount });
    expect(chunkCount).toBeGreaterThan(0);
    const check = await command('repo-check', [repo], { 'read-data-subset': '100%' }, repo).catch((e: unknown) => e);
    expect(check).toMatchObject({ code: 'IMAGE_CORRUPT', message: expect.stringContaining(`snapshots/${fixture.snapshot}`) });
    expect((check as Error).message).toContain(`${pack}:`);
    await using target = await sparseImage(DISK_BYTES);
    await using loop = await loopDevice(target.path);
    const untouched = await sha256Of(loop.path, DISK_BYTES);
    const restore = await command('image-restore', [fixture.snapshot, loop.path], { yes: true }, repo).catch((e: unknown) => e);
    expect(restore).toMatchObject({ code: expect.stringMatching(/^IMAGE_(CORRUPT|TAMPERED)$/), message: expect.stringContaining(pack) });
    expect(await sha256Of(loop.path, DISK_BYTES)).toBe(untouched);
  }, 120_000);

  it('a version 1 repository (repo init --format 1, 32-byte ids) takes backups and restores them equal, as earlier builds wrote them', async () => {
    const dir = join(fixture.scratch.path, 'repo-format-1');
    const repo = `file://${dir}`;
    await expect(command('repo-init', [repo], { 'kdf-cost': '10', format: '1' }, repo)).resolves.toMatchObject({ data: { format: 1 } });
    await expect(command('repo-init', [`${repo}-3`], { 'kdf-cost': '10', format: '3' }, `${repo}-3`)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--format must be a whole number from 1 to 2') });
    const backup = (await command('image-backup', [fixture.disk.path], {}, repo)).data as { snapshot: string };
    await withRepository(dir, async (repository) => {
      expect(repository.config.version).toBe(1);
      const snapshot = await repository.readSnapshot(backup.snapshot);
      for (const id of [...snapshot.lists!, ...snapshot.streams.flatMap((st) => st.chunks.map(([chunk]) => chunk))]) expect(id).toMatch(/^[0-9a-f]{64}$/);
    });
    await expect(command('repo-check', [repo], { 'read-data-subset': '100%' }, repo)).resolves.toMatchObject({ data: { ok: true, snapshots: 1 } });
    await using target = await sparseImage(DISK_BYTES);
    await using loop = await loopDevice(target.path);
    await command('image-restore', [backup.snapshot, loop.path], { yes: true }, repo);
    expect(await sha256Of(loop.path, DISK_BYTES)).toBe(await sha256Of(fixture.disk.path, DISK_BYTES));
  }, 120_000);
});
