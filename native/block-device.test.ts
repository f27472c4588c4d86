import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync, fsyncSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, run, sparseImage, tempDir } from '../test/helpers/index.js';
import { blockDeviceGeometry, discardRange, flushBlockDevice, isNativeError } from './index.js';
import { attachedLoop } from './testing.js';

const MiB = 1024 * 1024;

function readDevice(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

describe('blockDeviceGeometry', () => {
  it('reports the exact size and 4096-byte sectors of a loop device made by losetup --sector-size 4096', async () => {
    await using image = await sparseImage(24 * MiB);
    await using loop = await loopDevice(image.path, { sectorSize: 4096 });
    expect(blockDeviceGeometry(loop.path)).toEqual({ sizeBytes: 24n * 1024n * 1024n, logicalSectorSize: 4096, physicalSectorSize: 4096 });
    expect((await run('blockdev', ['--getsize64', '--getss', '--getpbsz', loop.path])).stdout.split('\n').slice(0, 3)).toEqual([String(24 * MiB), '4096', '4096']);
  });

  it('reports 4096-byte sectors of a loop device attached with blockSize 4096 and 512 without it', async () => {
    await using image = await sparseImage(8 * MiB + 4096);
    await using big = attachedLoop(image.path, { blockSize: 4096 });
    await using small = attachedLoop(image.path);
    expect(blockDeviceGeometry(big.path)).toEqual({ sizeBytes: BigInt(8 * MiB + 4096), logicalSectorSize: 4096, physicalSectorSize: 4096 });
    expect(blockDeviceGeometry(small.path).logicalSectorSize).toBe(512);
  });

  it('fails on a regular file with ENOTTY, naming the ioctl and the path', async () => {
    await using dir = await tempDir();
    const file = join(dir.path, 'plain.bin');
    writeFileSync(file, 'not a disk');
    let caught: unknown;
    try {
      blockDeviceGeometry(file);
    } catch (error) {
      caught = error;
    }
    expect(isNativeError(caught)).toBe(true);
    expect(caught).toMatchObject({ errno: 25, code: 'ENOTTY', syscall: 'ioctl(BLKGETSIZE64)', path: file });
    expect((caught as Error).message).toBe(`ioctl(BLKGETSIZE64) failed on '${file}': Inappropriate ioctl for device (ENOTTY)`);
  });

  it('fails on a missing device with ENOENT from open', () => {
    expect(() => blockDeviceGeometry('/dev/shadowdisk-no-such-disk')).toThrow(
      expect.objectContaining({ errno: 2, code: 'ENOENT', syscall: 'open', path: '/dev/shadowdisk-no-such-disk' }),
    );
  });
});

describe('flushBlockDevice', () => {
  it('drops the device cache so reads see data written to the backing file behind its back', async () => {
    await using image = await sparseImage(4 * MiB);
    await using loop = await loopDevice(image.path);
    // The kernel drops a block device's cache at its last close: hold it open so the cache survives between reads.
    const holder = openSync(loop.path, 'r');
    try {
      expect(readDevice(loop.path, 0, 4096).every((b) => b === 0)).toBe(true); // now cached by the loop device
      const fresh = randomBytes(4096);
      const fd = openSync(image.path, 'r+');
      writeSync(fd, fresh, 0, 4096, 0);
      fsyncSync(fd);
      closeSync(fd);
      const beforeFlush = readDevice(loop.path, 0, 4096);
      flushBlockDevice(loop.path);
      const afterFlush = readDevice(loop.path, 0, 4096);
      expect(beforeFlush.every((b) => b === 0)).toBe(true);
      expect(afterFlush.equals(fresh)).toBe(true);
    } finally {
      closeSync(holder);
    }
  });
});

describe('discardRange', () => {
  it('punches a hole in the sparse file behind a loop device', async () => {
    await using image = await sparseImage(16 * MiB);
    writeFileSync(image.path, randomBytes(8 * MiB), { flag: 'r+' });
    await using loop = await loopDevice(image.path);
    const discardMax = Number(readFileSync(`/sys/block/${loop.path.slice(5)}/queue/discard_max_bytes`, 'utf8'));
    expect(discardMax, 'this kernel\'s loop driver does not support discard').toBeGreaterThan(0);
    const blocksBefore = statSync(image.path).blocks;
    discardRange(loop.path, 1n * BigInt(MiB), 6n * BigInt(MiB));
    const blocksAfter = statSync(image.path).blocks;
    console.log(`discardRange: backing file went from ${blocksBefore} to ${blocksAfter} allocated 512-byte blocks`);
    expect(blocksBefore).toBeGreaterThanOrEqual((8 * MiB) / 512);
    expect(blocksBefore - blocksAfter).toBeGreaterThanOrEqual((6 * MiB) / 512);
    const backing = readFileSync(image.path);
    expect(backing.subarray(MiB, 7 * MiB).every((b) => b === 0)).toBe(true);
    expect(backing.subarray(0, MiB).some((b) => b !== 0)).toBe(true);
  });

  it('refuses a negative offset before touching the device', () => {
    expect(() => discardRange('/dev/null', -1n, 4096n)).toThrow(/Expected offsetBytes to be a bigint in 0\.\.2\^63-1, got -1/);
  });
});
