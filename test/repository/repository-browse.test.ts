// `image browse|ls|cat|extract --repo`: a repository snapshot read like a single-file image (FUSE file server over a
// random-access view of the snapshot, read-only loop device, read-only mount). Files read back with the source's
// SHA-256; a flipped byte in a pack fails `cat` of a file it holds with IMAGE_CORRUPT naming the pack. One test reads
// from a real Ceph RGW over S3.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo } from '../../core/node/cli/capture-io.js';
import { main } from '../../core/node/cli/main.js';
import type { ShadowdiskHost } from '../../core/node/index.js';
import { LocalObjectStore } from '../../plugins/backup/repository/object-store.js';
import { packKey, Repository } from '../../plugins/backup/repository/repository.js';
import { placeSnapshotStream } from '../../plugins/backup/repository/snapshot-view.js';
import { cephRgw } from '../helpers/ceph-rgw.js';
import { isMounted, loopDevice, mount, run, type TempDir } from '../helpers/index.js';
import { localRepository, type LocalRepository } from './local-repository.js';
import { sha256Of } from './repository-cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const exec = promisify(execFile);
const MiB = 1024 * 1024;
const PASSPHRASE = 'browse me';

let fixture: LocalRepository;
let state: TempDir;
let scratch: TempDir;
let host: ShadowdiskHost;
let disk: LocalRepository['disk'];
let repo: string;
let passFile: string;
let snapshot: string;
let partStart: number;
/** SHA-256 of every file of the source's ext4 partition, by path inside it. */
let sourceHashes: Record<string, string>;

async function hashTree(dir: string): Promise<Record<string, string>> {
  const { stdout } = await exec('sh', ['-c', 'cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum', 'hash', dir], { maxBuffer: 64 * MiB });
  return Object.fromEntries(stdout.trim().split('\n').filter(Boolean).map((line) => [line.slice(66).replace(/^\.\//, ''), line.slice(0, 64)]));
}

const image = (verb: string, positionals: string[], options: Record<string, string | boolean> = {}, repository = repo) =>
  host.executeCommand(`shadowdisk.backup.image-${verb}`, { positionals, options: { repo: repository, 'passphrase-file': passFile, ...options } });

/** `image cat` as its own process (it writes the file to standard output): the bytes, or the --json error. */
async function cat(repository: string, snapshotRef: string, path: string, env: Record<string, string> = {}): Promise<{ bytes: Buffer; error?: { code: string; message: string } }> {
  try {
    const { stdout } = await exec(join(root, 'node_modules/.bin/node'), [join(root, 'bin/shadowdisk.js'), 'image', 'cat', '--repo', repository, snapshotRef, path, '--passphrase-file', passFile, '--json'], { encoding: 'buffer', maxBuffer: 64 * MiB, env: { ...process.env, ...env, SHADOWDISK_HOME: state.path } });
    return { bytes: stdout };
  } catch (error) {
    const out = (error as { stdout: Buffer }).stdout.toString();
    return { bytes: Buffer.alloc(0), error: (JSON.parse(out) as { error: { code: string; message: string } }).error };
  }
}

beforeAll(async () => {
  fixture = await localRepository({ diskBytes: 64 * MiB, packages: 8, passphrase: PASSPHRASE });
  ({ state, scratch, host, disk, repo, passFile, snapshot } = fixture);
  const { stdout } = await run('sfdisk', ['--json', disk.path]);
  const part = (JSON.parse(stdout) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable.partitions[0]!;
  partStart = part.start * 512;
  await using loop = await loopDevice(disk.path, { offsetBytes: partStart, sizeLimitBytes: part.size * 512, readOnly: true });
  await using mounted = await mount(loop.path, { options: ['ro', 'noload'] });
  sourceHashes = await hashTree(mounted.mountpoint);
}, 120_000);

afterAll(async () => {
  await fixture?.[Symbol.asyncDispose]();
});

describe('image browse --repo (local repository)', () => {
  it('mounts the snapshot read-only until interrupted; every file reads back with its SHA-256', async () => {
    const mountpoint = join(scratch.path, 'browse');
    const controller = new AbortController();
    const io = captureIo({ signal: controller.signal });
    process.env['SHADOWDISK_HOME'] = state.path;
    const running = main(['image', 'browse', '--repo', repo, 'latest', mountpoint, '--passphrase-file', passFile, '--json'], io);
    try {
      for (let waited = 0; !io.err().includes('Press Ctrl-C'); waited += 50) {
        if (waited > 60_000) throw new Error(`browse did not mount: ${io.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await isMounted(mountpoint)).toBe(true);
      expect(Object.keys(sourceHashes).length).toBeGreaterThan(50);
      expect(await hashTree(mountpoint)).toEqual(sourceHashes);
      await expect(exec('touch', [join(mountpoint, 'new-file')])).rejects.toThrow(/Read-only file system/);
    } finally {
      controller.abort();
      expect(await running).toBe(0);
    }
    expect(await isMounted(mountpoint)).toBe(false);
  }, 120_000);

  it('lists, extracts and prints files of a snapshot named by a prefix of its id', async () => {
    const listed = (await image('ls', [snapshot.slice(0, 8), '/usr/lib'])).data as { entries: { name: string; type: string }[] };
    expect(listed.entries.map((e) => `${e.name}:${e.type}`)).toEqual(Array.from({ length: 8 }, (_, p) => `package-${p}:directory`));
    const out = join(scratch.path, 'extracted');
    await mkdir(out);
    await image('extract', [snapshot.slice(0, 8), '/usr', out]);
    expect(Object.fromEntries(Object.entries(await hashTree(join(out, 'usr'))).map(([k, v]) => [`usr/${k}`, v]))).toEqual(Object.fromEntries(Object.entries(sourceHashes).filter(([k]) => k.startsWith('usr/'))));
    const file = 'usr/lib/package-3/file-1.txt';
    const printed = await cat(repo, snapshot.slice(0, 10), `/${file}`);
    expect(printed.error).toBeUndefined();
    expect(createHashHex(printed.bytes)).toBe(sourceHashes[file]);
    await expect(image('ls', ['0123456789', '/'])).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("No snapshot '0123456789'") });
  }, 120_000);

  it('fails cat of a file held by a pack with a flipped byte with IMAGE_CORRUPT naming the pack, and leaves the pack as it was', async () => {
    const damagedRepo = join(scratch.path, 'repo-damaged');
    await cp(join(scratch.path, 'repo'), damagedRepo, { recursive: true });
    // Where the file's first block lies on the disk, which chunk holds that byte, and in which pack.
    const target = 'usr/lib/package-2/file-0.so';
    expect(sourceHashes[target]).toBeDefined();
    const fileByte = await partitionBlock(target);
    const repository = await Repository.open(new LocalObjectStore(damagedRepo), PASSPHRASE);
    let pack: string;
    try {
      const snap = await repository.readSnapshot(snapshot);
      const stream = snap.manifest.streams.find((s) => s.partition === 1)!;
      const chunkId = placeSnapshotStream(snap, stream).find((c) => c.pieces.some((p) => p.offsetBytes <= fileByte && fileByte < p.offsetBytes + p.lengthBytes))!.id;
      const at = (await repository.chunkIndex()).get(chunkId)!;
      pack = packKey(at.pack);
      const path = join(damagedRepo, pack);
      const bytes = await readFile(path);
      bytes[at.offset + Math.floor(at.length / 2)]! ^= 0x01;
      await writeFile(path, bytes);
    } finally {
      await repository.close();
    }
    const before = await sha256Of(join(damagedRepo, pack));
    const failed = await cat(`file://${damagedRepo}`, snapshot, `/${target}`);
    expect(failed.error).toMatchObject({ code: 'IMAGE_CORRUPT', message: expect.stringContaining(pack) });
    expect(failed.bytes.length).toBe(0);
    expect(await sha256Of(join(damagedRepo, pack))).toBe(before);
  }, 120_000);
});

describe('image browse --repo (S3)', () => {
  it('extracts and prints files of a snapshot in a Ceph RGW bucket with the source SHA-256', async () => {
    await using rgw = await cephRgw({ bucket: 'browse' });
    const env = { ...rgw.env };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const s3 = 's3://browse/fleet';
      await host.executeCommand('shadowdisk.backup.repo-init', { positionals: [s3], options: { 'passphrase-file': passFile, 'kdf-cost': '10' } });
      const made = ((await host.executeCommand('shadowdisk.backup.image-backup', { positionals: [disk.path], options: { repo: s3, 'passphrase-file': passFile } })).data as Record<string, unknown>)['snapshot'] as string;
      const out = join(scratch.path, 's3-extracted');
      await image('extract', [made, '/usr/lib/package-5', out], {}, s3);
      expect(Object.fromEntries(Object.entries(await hashTree(out)).map(([k, v]) => [`usr/lib/package-5/${k}`, v]))).toEqual(Object.fromEntries(Object.entries(sourceHashes).filter(([k]) => k.startsWith('usr/lib/package-5/'))));
      const file = 'usr/lib/package-6/file-0.so';
      const printed = await cat(s3, 'latest', `/${file}`, env);
      expect(printed.error).toBeUndefined();
      expect(createHashHex(printed.bytes)).toBe(sourceHashes[file]);
    } finally {
      for (const key of Object.keys(env)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  }, 180_000);
});

function createHashHex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The disk byte where the first block of `file` (a path inside the ext4 partition) lies, from debugfs. */
async function partitionBlock(file: string): Promise<number> {
  const { stdout } = await run('sfdisk', ['--json', disk.path]);
  const part = (JSON.parse(stdout) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable.partitions[0]!;
  await using loop = await loopDevice(disk.path, { offsetBytes: part.start * 512, sizeLimitBytes: part.size * 512, readOnly: true });
  const blockSize = Number(/Block size:\s+(\d+)/.exec((await run('dumpe2fs', ['-h', loop.path])).stdout)![1]);
  const block = Number((await run('debugfs', ['-R', `bmap /${file} 0`, loop.path])).stdout.trim());
  expect(block).toBeGreaterThan(0);
  return partStart + block * blockSize;
}
