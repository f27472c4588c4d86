import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuseMount, isMounted, loopBackingFile, loopDevice, mkfs, mount, run, sparseImage, tempDir } from './index.js';

describe('test harness', () => {
  it('makes a sparse image that takes no space until written, and removes it on dispose', async () => {
    let path: string;
    {
      await using image = await sparseImage(256 * 1024 * 1024);
      path = image.path;
      const info = await stat(image.path);
      expect(info.size).toBe(256 * 1024 * 1024);
      expect(info.blocks).toBe(0);
    }
    expect(existsSync(path)).toBe(false);
  });

  it('detaches its loop device and unmounts its mount on dispose, even when the test body throws', async () => {
    let device = '';
    let backing = '';
    let mountpoint = '';
    await expect(
      (async () => {
        await using image = await sparseImage(32 * 1024 * 1024);
        await using loop = await loopDevice(image.path);
        device = loop.path;
        backing = loop.backingFile;
        await mkfs(loop.path, 'ext4');
        await using mounted = await mount(loop.path);
        mountpoint = mounted.mountpoint;
        throw new Error('the test failed half-way');
      })(),
    ).rejects.toThrow('the test failed half-way');
    expect(await isMounted(mountpoint)).toBe(false);
    expect(existsSync(mountpoint)).toBe(false);
    expect(backing).not.toBe('');
    expect(await loopBackingFile(device)).not.toBe(backing);
  });

  it('leaves alone a loop device that was detached and reused by someone else', async () => {
    await using image = await sparseImage(8 * 1024 * 1024);
    await using other = await sparseImage(8 * 1024 * 1024);
    const loop = await loopDevice(image.path);
    await run('losetup', ['--detach', loop.path]);
    // Someone else attaches a file; it may well get the same number.
    await using stranger = await loopDevice(other.path);
    await loop[Symbol.asyncDispose]();
    expect(await loopBackingFile(stranger.path)).toBe(other.path);
  });

  it('mounts a filesystem through a real FUSE server and lifts the mount on dispose', async () => {
    await using scratch = await tempDir();
    await mkdir(join(scratch.path, 'content'));
    await writeFile(join(scratch.path, 'content', 'greeting.txt'), 'hello from ext4 over FUSE\n');
    const image = join(scratch.path, 'fs.img');
    await run('truncate', ['-s', '16M', image]);
    await run('mkfs.ext4', ['-q', '-F', '-d', join(scratch.path, 'content'), image]);
    let mountpoint = '';
    {
      await using fuse = await fuseMount('fuse2fs', [image, '-f', '-o', 'ro']);
      mountpoint = fuse.mountpoint;
      expect((await readFile('/proc/self/mounts', 'utf8')).split('\n').find((l) => l.includes(` ${fuse.mountpoint} `))).toMatch(/ fuse\.?/);
      expect(await readFile(join(fuse.mountpoint, 'greeting.txt'), 'utf8')).toBe('hello from ext4 over FUSE\n');
    }
    expect(await isMounted(mountpoint)).toBe(false);
  });

  it('names the FUSE server and its complaint when it cannot mount', async () => {
    await expect(fuseMount('fuse2fs', ['/nonexistent.img', '-f'])).rejects.toThrow(/FUSE server fuse2fs did not mount/);
  });
});
