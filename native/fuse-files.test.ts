// The FUSE file server on a real FUSE mount: bytes from JS read back through the kernel, directly and through a loop device.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMounted, prng, run, tempDir } from '../test/helpers/index.js';
import { attachedLoop } from './testing.js';
import { serveFiles, type ServedFile } from './fuse-files.js';

function patterned(name: string, sizeBytes: number, seed: number): ServedFile & { bytes: Uint8Array } {
  const next = prng(seed);
  const bytes = Uint8Array.from({ length: sizeBytes }, () => Math.floor(next() * 256));
  return { name, sizeBytes, bytes, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

describe('serveFiles', () => {
  it('serves files whose bytes come from JS, listed, sized and read back exactly', async () => {
    await using scratch = await tempDir();
    const mountpoint = join(scratch.path, 'mnt');
    await mkdir(mountpoint);
    const a = patterned('a.img', 3 * 1024 * 1024 + 123, 1);
    const b = patterned('b.img', 4096, 2);
    await using server = serveFiles(mountpoint, [a, b]);
    expect(await isMounted(mountpoint)).toBe(true);
    expect((await readdir(mountpoint)).sort()).toEqual(['a.img', 'b.img']);
    expect((await stat(join(mountpoint, 'a.img'))).size).toBe(a.sizeBytes);
    expect(Buffer.compare(await readFile(join(mountpoint, 'a.img')), a.bytes)).toBe(0);
    expect(Buffer.compare(await readFile(join(mountpoint, 'b.img')), b.bytes)).toBe(0);
    await expect(open(join(mountpoint, 'a.img'), 'r+')).rejects.toMatchObject({ code: expect.stringMatching(/^(EROFS|EACCES)$/) });
    await expect(stat(join(mountpoint, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    await server.close();
    expect(await isMounted(mountpoint)).toBe(false);
  });

  it('fails a read with EIO when the JS side throws, and reports the error', async () => {
    await using scratch = await tempDir();
    const mountpoint = join(scratch.path, 'mnt');
    await mkdir(mountpoint);
    const errors: string[] = [];
    const broken: ServedFile = { name: 'broken', sizeBytes: 65536, read: () => { throw new Error('chunk 3 is damaged'); } };
    await using _server = serveFiles(mountpoint, [broken], { onError: (e) => errors.push(e.message) });
    await expect(readFile(join(mountpoint, 'broken'))).rejects.toMatchObject({ code: 'EIO' });
    expect(errors[0]).toBe('chunk 3 is damaged');
  });

  it('carries a read-only loop device and an ext4 mount whose files read back by SHA-256', async () => {
    await using scratch = await tempDir();
    const volume = join(scratch.path, 'volume.img');
    const tree = join(scratch.path, 'tree');
    await mkdir(tree);
    const content = randomBytes(5 * 1024 * 1024);
    await writeFile(join(tree, 'data.bin'), content);
    await run('truncate', ['-s', '64M', volume]);
    await run('mkfs.ext4', ['-q', '-F', '-d', tree, volume]);
    const bytes = await readFile(volume);
    const mountpoint = join(scratch.path, 'fuse');
    const fsMount = join(scratch.path, 'fs');
    await mkdir(mountpoint);
    await mkdir(fsMount);
    await using server = serveFiles(mountpoint, [{ name: 'volume', sizeBytes: bytes.length, read: (o, l) => bytes.subarray(o, o + l) }]);
    {
      await using loop = attachedLoop(join(mountpoint, 'volume'), { readOnly: true });
      await run('mount', ['-o', 'ro,noload', loop.path, fsMount]);
      try {
        const read = await readFile(join(fsMount, 'data.bin'));
        expect(createHash('sha256').update(read).digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));
      } finally {
        await run('umount', [fsMount]);
      }
      // While the loop device holds the file, the FUSE mount is busy and stays.
      await expect(server.close()).rejects.toMatchObject({ code: 'EBUSY' });
    }
    await server.close();
    expect(await isMounted(mountpoint)).toBe(false);
  });
});
