import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mkfs, mount, run, sparseImage, tempDir } from '../test/helpers/index.js';
import { cloneFile, cloneRange, fileExtents, FileExtentFlag, isNativeError, reflinkCatchUp, type FileExtent } from './index.js';

const MiB = 1024 * 1024;

async function xfsWithReflink() {
  const image = await sparseImage(512 * MiB); // mkfs.xfs 6.x refuses filesystems under 300 MB
  const loop = await loopDevice(image.path);
  await mkfs(loop.path, 'xfs');
  const fs = await mount(loop.path);
  const info = (await run('xfs_info', [fs.mountpoint])).stdout;
  expect(info, 'mkfs.xfs did not enable reflink').toMatch(/reflink=1/);
  return {
    mountpoint: fs.mountpoint,
    async [Symbol.asyncDispose]() {
      await fs[Symbol.asyncDispose]();
      await loop[Symbol.asyncDispose]();
      await image[Symbol.asyncDispose]();
    },
  };
}

function usedBytes(mountpoint: string): number {
  const s = statfsSync(mountpoint);
  return (s.blocks - s.bfree) * s.bsize;
}

const physicalRanges = (extents: FileExtent[]) => extents.map(({ logicalBytes, physicalBytes, lengthBytes }) => ({ logicalBytes, physicalBytes, lengthBytes }));

describe('cloneFile', () => {
  it('makes an XFS copy that shares every physical extent with its source and takes no new space', async () => {
    await using xfs = await xfsWithReflink();
    const src = join(xfs.mountpoint, 'source.bin');
    const dest = join(xfs.mountpoint, 'clone.bin');
    const data = randomBytes(8 * MiB);
    writeFileSync(src, data, { flush: true });
    const before = fileExtents(src);
    const usedBefore = usedBytes(xfs.mountpoint);

    cloneFile(src, dest);

    const usedGrowth = usedBytes(xfs.mountpoint) - usedBefore;
    const srcExtents = fileExtents(src);
    const destExtents = fileExtents(dest);
    console.log(`cloneFile: ${destExtents.length} shared extent(s), filesystem usage grew by ${usedGrowth} bytes for an 8 MiB clone`);
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(srcExtents.reduce((sum, e) => sum + e.lengthBytes, 0n)).toBe(8n * BigInt(MiB));
    expect(physicalRanges(destExtents)).toEqual(physicalRanges(srcExtents));
    expect(physicalRanges(srcExtents)).toEqual(physicalRanges(before));
    for (const extent of [...srcExtents, ...destExtents]) expect(extent.flags & FileExtentFlag.Shared).toBe(FileExtentFlag.Shared);
    expect(destExtents.at(-1)!.flags & FileExtentFlag.Last).toBe(FileExtentFlag.Last);
    expect(usedGrowth).toBeLessThan(MiB);
  });

  it('fails with EXDEV across filesystems, names both files and leaves no destination behind', async () => {
    await using xfs = await xfsWithReflink();
    await using other = await tempDir();
    const src = join(xfs.mountpoint, 'source.bin');
    const dest = join(other.path, 'clone.bin');
    writeFileSync(src, randomBytes(64 * 1024));
    let caught: unknown;
    try {
      cloneFile(src, dest);
    } catch (error) {
      caught = error;
    }
    expect(isNativeError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'EXDEV', syscall: 'ioctl(FICLONE)', path: src, dest });
    expect((caught as Error).message).toBe(`ioctl(FICLONE) failed on '${src}' -> '${dest}': Invalid cross-device link (EXDEV)`);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('cloneRange', () => {
  it('shares one MiB from the middle of an XFS file at the start of another', async () => {
    await using xfs = await xfsWithReflink();
    const src = join(xfs.mountpoint, 'source.bin');
    const dest = join(xfs.mountpoint, 'range.bin');
    const data = randomBytes(4 * MiB);
    writeFileSync(src, data, { flush: true });

    cloneRange(src, 2n * BigInt(MiB), BigInt(MiB), dest, 0n);

    expect(readFileSync(dest).equals(data.subarray(2 * MiB, 3 * MiB))).toBe(true);
    const at = 2n * BigInt(MiB);
    const holder = fileExtents(src).find((e) => e.logicalBytes <= at && at < e.logicalBytes + e.lengthBytes)!;
    const [first] = fileExtents(dest);
    expect(first).toMatchObject({ logicalBytes: 0n, physicalBytes: holder.physicalBytes + (at - holder.logicalBytes) });
    expect(first!.flags & FileExtentFlag.Shared).toBe(FileExtentFlag.Shared);
  });
});

describe('reflinkCatchUp', () => {
  it('re-clones exactly the ranges written since the clone, off the main thread, and returns the map for the next pass', async () => {
    await using xfs = await xfsWithReflink();
    const src = join(xfs.mountpoint, 'image.bin');
    const dest = join(xfs.mountpoint, 'clone.bin');
    writeFileSync(src, randomBytes(16 * MiB), { flush: true });
    cloneFile(src, dest);
    // Unflushed writes: the catch-up's FIEMAP syncs the source first. Two 4 KiB blocks and one 64 KiB run.
    const fd = openSync(src, 'r+');
    for (const [offset, length] of [[MiB, 4096], [5 * MiB, 4096], [9 * MiB, 65536]] as const) writeSync(fd, randomBytes(length), 0, length, offset);
    closeSync(fd);
    expect(readFileSync(dest).equals(readFileSync(src))).toBe(false);

    const first = await reflinkCatchUp(src, dest, undefined, true);
    expect(first).toMatchObject({ ranges: 3, bytes: 4096 + 4096 + 65536 });
    expect(readFileSync(dest).equals(readFileSync(src))).toBe(true);
    expect(first.cloneMap!.length % 4).toBe(0);
    expect(first.cloneMap!.length / 4).toBe(fileExtents(dest).length);

    // With the map from the last pass, an unchanged source needs nothing; a new write is found again.
    expect(await reflinkCatchUp(src, dest, first.cloneMap, true)).toMatchObject({ ranges: 0, bytes: 0 });
    writeFileSync(src, Buffer.alloc(4096, 0x42), { flag: 'r+' });
    const again = await reflinkCatchUp(src, dest, first.cloneMap);
    expect(again).toMatchObject({ ranges: 1, bytes: 4096 });
    expect(again.cloneMap).toBeUndefined();
    expect(readFileSync(dest).subarray(0, 4096).every((b) => b === 0x42)).toBe(true);
  });

  it('rejects a missing source with ENOENT naming it, and a map that is not quadruples', async () => {
    await using xfs = await xfsWithReflink();
    const missing = join(xfs.mountpoint, 'missing.bin');
    await expect(reflinkCatchUp(missing, join(xfs.mountpoint, 'clone.bin'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing });
    writeFileSync(join(xfs.mountpoint, 'a.bin'), 'a');
    expect(() => reflinkCatchUp(join(xfs.mountpoint, 'a.bin'), join(xfs.mountpoint, 'a.bin'), new Float64Array(3))).toThrow(/quadruples/);
  });
});
