import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, run, sparseImage } from '../test/helpers/index.js';
import { addPartitionNode, blockDeviceGeometry, deletePartitionNode, loopStatus, resizePartitionNode } from './index.js';
import { attachedLoop } from './testing.js';

const MiB = 1024 * 1024;
const MiBn = BigInt(MiB);

/** start and size of a partition as the kernel publishes them, in 512-byte units. */
function sysfsPartition(disk: string, partno: number): { start: number; size: number } | undefined {
  const dir = `/sys/block/${basename(disk)}/${basename(disk)}p${partno}`;
  if (!existsSync(dir)) return undefined;
  return { start: Number(readFileSync(`${dir}/start`, 'utf8')), size: Number(readFileSync(`${dir}/size`, 'utf8')) };
}

describe('partition nodes (BLKPG)', () => {
  it('adds, resizes and deletes a partition node on a loop device attached with partScan', async () => {
    await using image = await sparseImage(64 * MiB);
    await using disk = attachedLoop(image.path, { partScan: true });
    expect(loopStatus(disk.path).partScan).toBe(true);
    const part = `${disk.path}p1`;

    addPartitionNode(disk.path, 1, MiBn, 8n * MiBn);
    try {
      expect(sysfsPartition(disk.path, 1)).toEqual({ start: 2048, size: 16384 });
      expect(blockDeviceGeometry(part).sizeBytes).toBe(8n * MiBn);
      expect((await run('blockdev', ['--getsize64', part])).stdout.trim()).toBe(String(8 * MiB));

      resizePartitionNode(disk.path, 1, MiBn, 24n * MiBn);
      expect(sysfsPartition(disk.path, 1)).toEqual({ start: 2048, size: 49152 });
      expect((await run('blockdev', ['--getsize64', part])).stdout.trim()).toBe(String(24 * MiB));

      expect(() => addPartitionNode(disk.path, 2, 16n * MiBn, 8n * MiBn)).toThrow(
        expect.objectContaining({ code: 'EBUSY', syscall: 'ioctl(BLKPG_ADD_PARTITION)', path: disk.path }),
      );
      expect(() => resizePartitionNode(disk.path, 1, 2n * MiBn, 8n * MiBn)).toThrow(
        expect.objectContaining({ code: 'EINVAL', syscall: 'ioctl(BLKPG_RESIZE_PARTITION)' }),
      );
    } finally {
      deletePartitionNode(disk.path, 1);
    }
    expect(sysfsPartition(disk.path, 1)).toBeUndefined();
    expect(existsSync(part)).toBe(false);
  });

  it('adds a partition node on a loop device made by losetup without -P, where the kernel does not scan partitions', async () => {
    await using image = await sparseImage(16 * MiB);
    await using disk = await loopDevice(image.path); // plain losetup: LO_FLAGS_PARTSCAN off
    expect(readFileSync(`/sys/block/${basename(disk.path)}/loop/partscan`, 'utf8').trim()).toBe('0');
    addPartitionNode(disk.path, 1, MiBn, 4n * MiBn);
    try {
      expect(sysfsPartition(disk.path, 1)).toEqual({ start: 2048, size: 8192 });
      expect((await run('blockdev', ['--getsize64', `${disk.path}p1`])).stdout.trim()).toBe(String(4 * MiB));
    } finally {
      deletePartitionNode(disk.path, 1);
    }
    expect(sysfsPartition(disk.path, 1)).toBeUndefined();
  });

  it('fails to delete a partition that does not exist with ENXIO', async () => {
    await using image = await sparseImage(16 * MiB);
    await using disk = attachedLoop(image.path, { partScan: true });
    expect(() => deletePartitionNode(disk.path, 3)).toThrow(
      expect.objectContaining({ code: 'ENXIO', syscall: 'ioctl(BLKPG_DEL_PARTITION)', path: disk.path }),
    );
  });
});
