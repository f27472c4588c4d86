// `repo forget`: named snapshots deleted (all references resolved first, so one bad reference forgets nothing), a dry
// run that deletes nothing, and with --prune the data no snapshot needs any more deleted at once.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShadowdiskHost } from '../../core/node/index.js';
import { localRepository, type LocalRepository } from './local-repository.js';

let fixture: LocalRepository;
let host: ShadowdiskHost;

const command = (name: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.backup.${name}`, { positionals, options: { 'passphrase-file': fixture.passFile, ...options } });
const listed = async () => ((await command('repo-list', [fixture.repo])).data as { snapshots: { id: string }[] }).snapshots.map((s) => s.id);
const packs = async () => (await readdir(join(fixture.repoDir, 'data'), { recursive: true })).filter((name) => /[0-9a-f]{64}$/.test(name));

beforeAll(async () => {
  fixture = await localRepository({ diskBytes: 64 * 1024 * 1024, packages: 6, passphrase: 'forget me' });
  host = fixture.host;
}, 120_000);

afterAll(async () => {
  await fixture?.[Symbol.asyncDispose]();
});

describe('repo forget', () => {
  it('forgets named snapshots, refuses a bad reference with nothing deleted, and with --prune frees what nothing needs', async () => {
    const first = fixture.snapshot;
    const second = ((await command('image-backup', [fixture.disk.path], { repo: fixture.repo })).data as { snapshot: string }).snapshot;
    expect(await listed()).toEqual([first, second]);
    // One reference that names nothing: neither snapshot is forgotten.
    await expect(command('repo-forget', [fixture.repo, first.slice(0, 8), 'ffffffff'])).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("No snapshot 'ffffffff'") });
    await expect(command('repo-forget', [fixture.repo])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await listed()).toEqual([first, second]);
    await expect(command('repo-forget', [fixture.repo, first.slice(0, 8)], { 'dry-run': true })).resolves.toMatchObject({ data: { forgotten: [first], dryRun: true } });
    expect(await listed()).toEqual([first, second]);
    // The second snapshot holds the same data: forgetting the first frees no pack.
    const before = await packs();
    await expect(command('repo-forget', [fixture.repo, first.slice(0, 8)], { prune: true })).resolves.toMatchObject({ data: { forgotten: [first], prune: { packsDeleted: 0 } } });
    expect(await listed()).toEqual([second]);
    expect(await packs()).toEqual(before);
    await expect(command('image-verify', ['latest'], { repo: fixture.repo })).resolves.toMatchObject({ data: { snapshot: second, ok: true } });
    // The last one: every pack goes.
    const last = await command('repo-forget', [fixture.repo, 'latest'], { prune: true });
    expect(last.data).toMatchObject({ forgotten: [second], prune: { packsDeleted: before.length } });
    expect(await listed()).toEqual([]);
    expect(await packs()).toEqual([]);
    await expect(command('repo-check', [fixture.repo])).resolves.toMatchObject({ data: { ok: true, snapshots: 0 } });
  }, 120_000);
});
