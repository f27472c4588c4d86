// `image browse|ls|cat|extract`: the partitions of a disk image mounted read-only through our FUSE file server and a
// read-only loop device; files read back with their SHA-256 while the image file stays unchanged, and the random-access
// view of a chain equals what a restore writes.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo } from '../../core/node/cli/capture-io.js';
import { main } from '../../core/node/cli/main.js';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { ChainView } from '../../plugins/backup/engine/chain-view.js';
import { openChain } from '../../plugins/backup/engine/image-chain.js';
import { isMounted, loopDevice, mount, sparseImage, tempDir, tempStateDir, type SparseImage, type TempDir } from '../helpers/index.js';
import { makeDisk, MiB, partitionExtent, sha256File } from './backup-disk.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const exec = promisify(execFile);

let state: TempDir;
let scratch: TempDir;
let host: ShadowdiskHost;
let disk: SparseImage;
let imagePath: string;
let imageHash: string;
/** SHA-256 of every file on partition 1 (ext4) and 2 (xfs) of the source, by path inside the filesystem. */
const sourceHashes: Record<number, Record<string, string>> = {};

const command = (verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.backup.image-${verb}`, { positionals, options });

/** Hashes in a child process: the FUSE reads a mount causes are answered on this process's main thread. */
async function hashTree(root: string): Promise<Record<string, string>> {
  const { stdout } = await exec('sh', ['-c', 'cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum', 'hash', root], { maxBuffer: 64 * MiB });
  return Object.fromEntries(stdout.trim().split('\n').filter(Boolean).map((line) => [line.slice(66).replace(/^\.\//, ''), line.slice(0, 64)]));
}

beforeAll(async () => {
  state = await tempStateDir();
  scratch = await tempDir();
  host = await createHost({ stateDir: state.path, logSink: () => undefined });
  disk = await makeDisk({ table: 'gpt', sizeMiB: 420, partitions: [{ number: 1, line: ',80MiB,L', fs: 'ext4' }, { number: 2, line: ',320MiB,L', fs: 'xfs' }] });
  for (const number of [1, 2]) {
    const { start, size } = await partitionExtent(disk.path, number);
    await using loop = await loopDevice(disk.path, { offsetBytes: start, sizeLimitBytes: size });
    await using mounted = await mount(loop.path, { options: number === 2 ? ['nouuid'] : [] });
    if (number === 1) {
      await mkdir(join(mounted.mountpoint, 'docs', 'deep'), { recursive: true });
      await writeFile(join(mounted.mountpoint, 'docs', 'deep', 'notes.txt'), 'line one\nline two\n');
      await writeFile(join(mounted.mountpoint, 'docs', 'big.bin'), createHash('sha512').update('big').digest().toString('hex').repeat(50_000));
      await symlink('deep/notes.txt', join(mounted.mountpoint, 'docs', 'link-inside'));
      await symlink('/etc/hostname', join(mounted.mountpoint, 'docs', 'link-outside'));
    }
    sourceHashes[number] = await hashTree(mounted.mountpoint);
  }
  imagePath = join(scratch.path, 'disk.sdimg');
  await command('backup', [disk.path, imagePath]);
  imageHash = await sha256File(imagePath);
}, 180_000);

afterAll(async () => {
  await host?.[Symbol.asyncDispose]();
  await disk?.[Symbol.asyncDispose]();
  await scratch?.[Symbol.asyncDispose]();
  await state?.[Symbol.asyncDispose]();
});

describe('image browse', () => {
  it('mounts every partition read-only until interrupted; files read back by SHA-256 and the image is unchanged', async () => {
    const mountpoint = join(scratch.path, 'browse');
    const controller = new AbortController();
    const io = captureIo({ signal: controller.signal });
    process.env['SHADOWDISK_HOME'] = state.path;
    const running = main(['image', 'browse', imagePath, mountpoint, '--json'], io);
    try {
      for (let waited = 0; !io.err().includes('Press Ctrl-C'); waited += 50) {
        if (waited > 60_000) throw new Error(`browse did not mount: ${io.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await isMounted(join(mountpoint, 'p1'))).toBe(true);
      expect(await isMounted(join(mountpoint, 'p2'))).toBe(true);
      expect(await hashTree(join(mountpoint, 'p1'))).toEqual(sourceHashes[1]);
      expect(await hashTree(join(mountpoint, 'p2'))).toEqual(sourceHashes[2]);
      expect(await readlink(join(mountpoint, 'p1', 'docs', 'link-inside'))).toBe('deep/notes.txt');
      // Read-only all the way down: the kernel refuses writes.
      await expect(exec('touch', [join(mountpoint, 'p1', 'new-file')])).rejects.toThrow(/Read-only file system/);
    } finally {
      controller.abort();
      expect(await running).toBe(0);
    }
    const result = JSON.parse(io.out()) as { mounts: { partition: number; filesystem: string }[]; unmounted: boolean };
    expect(result.mounts.map((m) => `${m.partition}:${m.filesystem}`)).toEqual(['1:ext4', '2:xfs']);
    expect(await isMounted(join(mountpoint, 'p1'))).toBe(false);
    await expect(stat(mountpoint)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await sha256File(imagePath)).toBe(imageHash);
  }, 120_000);

  it('lists a folder, extracts a file and a folder, and prints a file byte for byte', async () => {
    const listed = (await command('ls', [imagePath, '/docs'], { partition: '1' })).data as { entries: { name: string; type: string; sizeBytes: number; target?: string }[] };
    expect(listed.entries.map((e) => `${e.name}:${e.type}`)).toEqual(['big.bin:file', 'deep:directory', 'link-inside:symlink', 'link-outside:symlink']);
    expect(listed.entries.find((e) => e.name === 'link-outside')!.target).toBe('/etc/hostname');

    const out = join(scratch.path, 'extracted');
    await mkdir(out);
    await command('extract', [imagePath, '/docs/big.bin', out], { partition: '1' });
    expect(await sha256File(join(out, 'big.bin'))).toBe(sourceHashes[1]!['docs/big.bin']);
    await command('extract', [imagePath, 'docs/deep', join(out, 'deep-copy')], { partition: '1' });
    expect(await readFile(join(out, 'deep-copy', 'notes.txt'), 'utf8')).toBe('line one\nline two\n');
    await expect(command('extract', [imagePath, '/docs/big.bin', out], { partition: '1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('already exists') });

    const cat = await exec(process.execPath, [join(repo, 'dist/core/node/cli/run.js'), 'image', 'cat', imagePath, '/docs/big.bin', '--partition', '1'], { encoding: 'buffer', maxBuffer: 64 * MiB, env: { ...process.env, SHADOWDISK_HOME: state.path } });
    expect(createHash('sha256').update(cat.stdout).digest('hex')).toBe(sourceHashes[1]!['docs/big.bin']);
    expect(await sha256File(imagePath)).toBe(imageHash);
  }, 120_000);

  it('refuses paths that leave the filesystem, missing paths and an ambiguous partition, by name', async () => {
    await expect(command('cat', [imagePath, '/docs/link-outside'], { partition: '1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('leads out of the image') });
    await expect(command('ls', [imagePath, '/no/such/dir'], { partition: '1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(command('ls', [imagePath, '/'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--partition') });
    await expect(command('ls', [imagePath, '/'], { partition: '7' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no partition 7') });
  }, 120_000);

  it('fails reads of a damaged chunk with EIO and names it, without touching the image', async () => {
    const damaged = join(scratch.path, 'damaged.sdimg');
    const bytes = await readFile(imagePath);
    // One flipped byte in every chunk of partition 1's data after its first (superblock and first inode table).
    {
      await using chain = await openChain(imagePath, undefined);
      const [link] = chain.links;
      const stream = link!.manifest.streams.find((s) => s.partition === 1)!;
      const chunks = link!.reader.chunks.filter((c) => c.streamId === stream.id).slice(1);
      expect(chunks.length).toBeGreaterThan(0);
      for (const chunk of chunks) {
        const at = chunk.fileOffset + 64 + Math.floor(chunk.storedLength / 2);
        bytes[at] = bytes[at]! ^ 0xff;
      }
    }
    await writeFile(damaged, bytes);
    const before = await sha256File(damaged);
    const errors: string[] = [];
    const log = { info: () => undefined, warn: () => undefined, error: (message: string) => void errors.push(message) };
    const out = join(scratch.path, 'from-damaged');
    await expect(host.executeCommand('shadowdisk.backup.image-extract', { positionals: [damaged, '/', out], options: { partition: '1' } }, { log }))
      .rejects.toMatchObject({ code: 'IMAGE_CORRUPT', message: expect.stringMatching(/damaged: .*chunk \d+/) });
    expect(errors.join('\n')).toMatch(/chunk \d+/);
    expect(await sha256File(damaged)).toBe(before);
  }, 120_000);
});

describe('chain view', () => {
  it('reads every byte of a chain as a restore of it writes them', async () => {
    const { start, size } = await partitionExtent(disk.path, 1);
    await using volume = await sparseImage(size);
    {
      const src = await open(disk.path, 'r');
      const dst = await open(volume.path, 'r+');
      const buffer = Buffer.alloc(size);
      await src.read(buffer, 0, size, start);
      await dst.write(buffer, 0, size, 0);
      await src.close();
      await dst.close();
    }
    const full = join(scratch.path, 'vol-full.sdimg');
    await command('backup', [volume.path, full]);
    // Change the volume below the filesystem's notice only through it: mount, write, unmount.
    {
      await using loop = await loopDevice(volume.path);
      await using mounted = await mount(loop.path);
      await writeFile(join(mounted.mountpoint, 'docs', 'later.txt'), 'written after the full backup\n'.repeat(1000));
    }
    const child = join(scratch.path, 'vol-inc.sdimg');
    await command('backup', [volume.path, child], { incremental: full });
    await using restored = await sparseImage(size);
    await command('restore', [child, restored.path], { yes: true });
    await using chain = await openChain(child, undefined);
    expect(chain.links).toHaveLength(2);
    const view = new ChainView(chain.links);
    const expected = await readFile(restored.path);
    // Odd offsets and lengths, crossing chunk and block boundaries, and the whole volume at once.
    for (const [offset, length] of [[0, 4096], [1023, 70_001], [5 * MiB - 17, 3 * MiB + 5], [size - 4096, 4096]] as const) {
      expect(Buffer.compare(Buffer.from(await view.read(offset, length)), expected.subarray(offset, offset + length))).toBe(0);
    }
    expect(Buffer.compare(Buffer.from(await view.read(0, size)), expected)).toBe(0);
  }, 120_000);
});
