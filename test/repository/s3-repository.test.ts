// Image repositories on a real S3 store: one single-node Ceph RGW for the whole file, loop-device disks with OS-like
// content, and the CLI run as separate processes (machines) against one bucket.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cephRgw, type CephRgw } from '../helpers/ceph-rgw.js';
import { loopDevice, sparseImage, tempDir, tempStateDir, type TempDir } from '../helpers/index.js';
import { osLikeDisk } from './os-like-disk.js';
import { ok, sha256Of, shadowdisk, until } from './repository-cli.js';

const DISK_BYTES = 64 * 1024 * 1024;
let rgw: CephRgw;
let scratch: TempDir;
let state: TempDir;
let env: Record<string, string>;
let s3: S3Client;
let diskA: Awaited<ReturnType<typeof osLikeDisk>>;
let diskB: Awaited<ReturnType<typeof osLikeDisk>>;
let hashA: string;
let hashB: string;

beforeAll(async () => {
  scratch = await tempDir();
  state = await tempStateDir();
  rgw = await cephRgw({ bucket: 'fleet' });
  // The two machines' disks: the same 20 packages (~45 MB of files), but 2 of them (10% of the files) in other versions.
  diskA = await osLikeDisk(scratch.path, 'a', DISK_BYTES, 20, new Set());
  diskB = await osLikeDisk(scratch.path, 'b', DISK_BYTES, 20, new Set([5, 15]));
  hashA = await sha256Of(diskA.path);
  hashB = await sha256Of(diskB.path);
  env = { ...rgw.env, SHADOWDISK_HOME: state.path, SHADOWDISK_PASSPHRASE: 'correct horse battery staple' };
  s3 = new S3Client({ endpoint: rgw.endpoint, region: rgw.region, forcePathStyle: true, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey } });
}, 180_000);

afterAll(async () => {
  s3?.destroy();
  await diskA?.[Symbol.asyncDispose]();
  await diskB?.[Symbol.asyncDispose]();
  await rgw?.[Symbol.asyncDispose]();
  await state?.[Symbol.asyncDispose]();
  await scratch?.[Symbol.asyncDispose]();
}, 60_000);

async function keys(prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: 'fleet', Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

async function restoredHash(repo: string, snapshot: string): Promise<string> {
  await using target = await sparseImage(DISK_BYTES);
  await using loop = await loopDevice(target.path);
  await ok(env, 'image', 'restore', '--repo', repo, snapshot, loop.path, '--yes');
  return sha256Of(loop.path, DISK_BYTES);
}

interface Stats { storedBytes: number; chunks: number; indexedBlobs: number; referencedChunks: number; snapshots: number; perSnapshot: { id: string; storedBytes: number; exclusiveBytes: number }[] }

describe('image repositories on S3 (Ceph RGW)', () => {
  it('takes two machines backing up at once into one bucket: both restore byte-equal and the shared data is stored once', async () => {
    const repo = 's3://fleet/shared';
    await ok(env, 'repo', 'init', repo, '--kdf-cost', '12');
    await using loopA = await loopDevice(diskA.path);
    await using loopB = await loopDevice(diskB.path);
    const [a, b] = await Promise.all([
      ok(env, 'image', 'backup', loopA.path, '--repo', repo, '--source-name', 'machine-a'),
      ok(env, 'image', 'backup', loopB.path, '--repo', repo, '--source-name', 'machine-b'),
    ]);
    // Writers started together share the upload out by chunk id; what one stored before it saw the other (process
    // start-up differs by seconds here) is stored twice until a prune, which keeps one copy.
    const before = (await ok(env, 'repo', 'stats', repo)) as unknown as Stats;
    expect(before.indexedBlobs).toBeLessThan(1.3 * before.referencedChunks);
    await ok(env, 'repo', 'prune', repo);
    const stats = (await ok(env, 'repo', 'stats', repo)) as unknown as Stats;
    expect(stats.snapshots).toBe(2);
    // B's used data is ~90% A's: the chunks only B references (what B adds to what A needs) take at most 20% of its
    // used bytes; each chunk is stored once (the two writers shared the upload out, neither stored it twice).
    const shareOfB = stats.perSnapshot.find((s) => s.id === b['snapshot'])!;
    const shareOfA = stats.perSnapshot.find((s) => s.id === a['snapshot'])!;
    expect(shareOfB.exclusiveBytes).toBeLessThanOrEqual(0.2 * (b['usedBytes'] as number));
    expect(shareOfB.exclusiveBytes).toBeGreaterThan(0);
    expect(stats.indexedBlobs).toBe(stats.referencedChunks);
    expect(stats.storedBytes).toBeLessThan(shareOfA.storedBytes + shareOfB.exclusiveBytes + 1024 * 1024);
    expect(await restoredHash(repo, a['snapshot'] as string)).toBe(hashA);
    expect(await restoredHash(repo, b['snapshot'] as string)).toBe(hashB);
    expect((await ok(env, 'repo', 'check', repo, '--read-data-subset=100%'))['ok']).toBe(true);
  }, 240_000);

  it('keeps the repository consistent after kill -9 mid-upload, and the next backup uploads only what was missing', async () => {
    const repo = 's3://fleet/killed';
    await ok(env, 'repo', 'init', repo, '--kdf-cost', '12');
    await using loop = await loopDevice(diskA.path);
    const victim = shadowdisk(env, 'image', 'backup', loop.path, '--repo', repo);
    const deadline = Date.now() + 120_000;
    while ((await keys('killed/index/')).length < 2) {
      if (Date.now() > deadline) throw new Error(`No pack was indexed within 120 s: ${(await victim.done.catch(() => undefined))?.stderr ?? ''}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    victim.child.kill('SIGKILL');
    const killed = await victim.done;
    expect(killed.signal).toBe('SIGKILL');
    // The half-written snapshot is invisible; what it uploaded is indexed; its lock is stale (its process is gone).
    expect(await keys('killed/snapshots/')).toEqual([]);
    expect((await ok(env, 'repo', 'check', repo, '--read-data-subset=100%'))['ok']).toBe(true);
    const before = (await ok(env, 'repo', 'stats', repo)) as unknown as Stats;
    expect(before.chunks).toBeGreaterThan(0);
    const locks = (await ok(env, 'repo', 'locks', repo))['locks'] as { stale: boolean }[];
    expect(locks.every((l) => l.stale)).toBe(true);
    const again = await ok(env, 'image', 'backup', loop.path, '--repo', repo);
    const after = (await ok(env, 'repo', 'stats', repo)) as unknown as Stats;
    // Every chunk stored once: what the killed run uploaded was reused, only the rest was uploaded.
    expect(after.indexedBlobs).toBe(after.referencedChunks);
    expect(again['newChunks']).toBe(after.referencedChunks - before.chunks);
    expect(again['newChunks']).toBeLessThan(again['chunks'] as number);
    expect((await ok(env, 'repo', 'check', repo, '--read-data-subset=100%'))['ok']).toBe(true);
    expect(await restoredHash(repo, again['snapshot'] as string)).toBe(hashA);
  }, 240_000);

  it('loses nothing when prune runs during a backup that reuses the chunks prune finds unreferenced', async () => {
    const repo = 's3://fleet/prune';
    await ok(env, 'repo', 'init', repo, '--kdf-cost', '12');
    await using loopA = await loopDevice(diskA.path);
    await using loopB = await loopDevice(diskB.path);
    const first = await ok(env, 'image', 'backup', loopA.path, '--repo', repo, '--source-name', 'server');
    const second = await ok(env, 'image', 'backup', loopB.path, '--repo', repo, '--source-name', 'server');
    // A's own chunks are referenced only by the first snapshot, which --keep-last 1 forgets, and the backup of A now
    // running has read the index and reuses exactly those chunks. It is held (SIGSTOP) until prune has marked them and
    // waits for it, then let go.
    const running = shadowdisk(env, 'image', 'backup', loopA.path, '--repo', repo, '--source-name', 'server');
    const pruning = { current: undefined as ReturnType<typeof shadowdisk> | undefined };
    let third: Awaited<typeof running.done>;
    let pruned: Awaited<typeof running.done>;
    try {
      await until('the backup to read its source', () => running.stderr().includes('"phase":"backup"'));
      running.child.kill('SIGSTOP');
      pruning.current = shadowdisk(env, 'repo', 'prune', repo, '--keep-last', '1');
      await until('prune to wait for the backup', () => pruning.current!.stderr().includes('wait for 1 backup'));
      expect((await keys('prune/prune/')).length).toBe(1);
      running.child.kill('SIGCONT');
      [third, pruned] = await Promise.all([running.done, pruning.current.done]);
    } finally {
      // A failed test must not leave a stopped backup holding the loop device.
      for (const child of [running.child, pruning.current?.child]) {
        if (child && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          child.kill('SIGCONT');
        }
      }
    }
    expect(third.code, third.stderr.slice(-2000)).toBe(0);
    expect(pruned.code, pruned.stderr.slice(-2000)).toBe(0);
    expect(pruned.data['forgotten']).toEqual([first['snapshot']]);
    // Prune repacked the packs holding A's now unreferenced chunks while the backup ran; the running backup reused those
    // chunks, so the old packs (their only copy) were kept.
    expect(pruned.data['packsRepacked'] as number).toBeGreaterThan(0);
    expect(pruned.data['packsDeleted']).toBe(0);
    const listed = ((await ok(env, 'repo', 'list', repo))['snapshots'] as { id: string }[]).map((s) => s.id).sort();
    expect(listed).toEqual([second['snapshot'], third.data['snapshot']].sort());
    expect((await ok(env, 'repo', 'check', repo, '--read-data-subset=100%'))['ok']).toBe(true);
    expect(await restoredHash(repo, second['snapshot'] as string)).toBe(hashB);
    expect(await restoredHash(repo, third.data['snapshot'] as string)).toBe(hashA);
    // With no backup running, a second prune now collects what nothing references.
    const again = await ok(env, 'repo', 'prune', repo, '--keep-last', '1');
    expect(again['forgotten']).toEqual([second['snapshot']]);
    expect(again['packsDeleted'] as number).toBeGreaterThan(0);
    expect((await ok(env, 'repo', 'check', repo, '--read-data-subset=100%'))['ok']).toBe(true);
    expect(await restoredHash(repo, third.data['snapshot'] as string)).toBe(hashA);
  }, 300_000);

  it('names a pack with one flipped byte and the snapshots that use it, and refuses to restore from it before writing', async () => {
    const repo = 's3://fleet/flipped';
    await ok(env, 'repo', 'init', repo, '--kdf-cost', '12');
    await using loop = await loopDevice(diskA.path);
    const backup = await ok(env, 'image', 'backup', loop.path, '--repo', repo);
    const pack = (await keys('flipped/data/'))[0]!;
    const bytes = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'fleet', Key: pack }))).Body!.transformToByteArray());
    bytes[Math.floor(bytes.length / 3)]! ^= 0x10;
    await s3.send(new PutObjectCommand({ Bucket: 'fleet', Key: pack, Body: bytes }));
    const check = await shadowdisk(env, 'repo', 'check', repo, '--read-data-subset=100%').done;
    expect(check.code).toBe(5);
    const error = check.data['error'] as { code: string; message: string };
    expect(error.code).toBe('IMAGE_CORRUPT');
    expect(error.message).toContain(pack.slice('flipped/'.length));
    expect(error.message).toContain(backup['snapshot'] as string);
    await using target = await sparseImage(DISK_BYTES);
    await using targetLoop = await loopDevice(target.path);
    const untouched = await sha256Of(targetLoop.path, DISK_BYTES);
    const restore = await shadowdisk(env, 'image', 'restore', '--repo', repo, backup['snapshot'] as string, targetLoop.path, '--yes').done;
    expect(restore.code).toBe(5);
    expect((restore.data['error'] as { code: string; message: string }).message).toContain(pack.slice('flipped/'.length));
    expect(await sha256Of(targetLoop.path, DISK_BYTES)).toBe(untouched);
  }, 180_000);

  it('keeps copies of the index objects on the machine: a backup downloads only those it has not seen, a damaged copy is fetched again, a pruned pack\'s copy goes, and repo check reads the store', async () => {
    const repo = 's3://fleet/cached';
    await using machine = await tempStateDir();
    const here = { ...env, SHADOWDISK_HOME: machine.path };
    const init = await ok(here, 'repo', 'init', repo, '--kdf-cost', '12');
    const cacheDir = join(machine.path, 'plugins', 'shadowdisk.backup', 'repository-cache', init['id'] as string);
    const indexObjects = async () => (await keys('cached/index/')).map((k) => k.slice('cached/index/'.length)).sort();
    const copies = async () => (await readdir(cacheDir)).sort();
    const object = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'fleet', Key: key }))).Body!.transformToByteArray());
    await using loopA = await loopDevice(diskA.path);
    await using loopB = await loopDevice(diskB.path);
    // The first backup finds no index and keeps a copy of each one it writes.
    expect(await ok(here, 'image', 'backup', loopA.path, '--repo', repo)).toMatchObject({ indexReads: { cached: 0, fetched: 0 } });
    const afterA = await indexObjects();
    expect(afterA.length).toBeGreaterThan(0);
    expect(await copies()).toEqual(afterA);
    for (const name of afterA) expect(await readFile(join(cacheDir, name))).toEqual(await object(`cached/index/${name}`));
    // The next backup on this machine downloads none of them; another machine (its own state directory) all of them.
    expect(await ok(here, 'image', 'backup', loopB.path, '--repo', repo)).toMatchObject({ indexReads: { cached: afterA.length, fetched: 0 } });
    const afterB = await indexObjects();
    expect(await ok(env, 'image', 'backup', loopB.path, '--repo', repo)).toMatchObject({ indexReads: { cached: 0, fetched: afterB.length } });
    // A damaged copy is read from the store again and replaced; a copy of an object the store no longer lists goes.
    const damaged = join(cacheDir, afterB[0]!);
    const bytes = await readFile(damaged);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x04;
    await writeFile(damaged, bytes);
    await writeFile(join(cacheDir, 'f'.repeat(64)), 'an index of a pack that was pruned');
    expect(await ok(here, 'image', 'backup', loopA.path, '--repo', repo)).toMatchObject({ indexReads: { cached: afterB.length - 1, fetched: 1 } });
    expect(await readFile(damaged)).toEqual(await object(`cached/index/${afterB[0]!}`));
    expect(await copies()).toEqual(await indexObjects());
    // repo check proves what the bucket holds, whatever the copies say.
    const remote = await object(`cached/index/${afterB[0]!}`);
    remote[Math.floor(remote.length / 2)]! ^= 0x04;
    await s3.send(new PutObjectCommand({ Bucket: 'fleet', Key: `cached/index/${afterB[0]!}`, Body: remote }));
    const check = await shadowdisk(here, 'repo', 'check', repo).done;
    expect(check.code).toBe(5);
    expect((check.data['error'] as { message: string }).message).toContain(`index/${afterB[0]!}`);
  }, 240_000);
});
