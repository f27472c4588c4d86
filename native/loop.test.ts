import { realpathSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, sparseImage } from '../test/helpers/index.js';
import { addPartitionNode, allocAligned, attachLoop, blockDeviceGeometry, detachLoop, DirectFile, isNativeError, loopStatus, partitionNodesOf } from './index.js';
import { attachedLoop, boundBackingFile } from './testing.js';

const MiB = 1024 * 1024;

/** Every 4-byte word holds its own byte offset, so any slice says where it came from. */
function patternImage(sizeBytes: number): Buffer {
  const buf = Buffer.alloc(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += 4) buf.writeUInt32LE(offset, offset);
  return buf;
}

describe('attachLoop', () => {
  it('exposes exactly the 2 MiB slice at offset 1 MiB of the backing file', async () => {
    await using image = await sparseImage(4 * MiB);
    const content = patternImage(4 * MiB);
    writeFileSync(image.path, content);
    await using loop = attachedLoop(image.path, { offsetBytes: BigInt(MiB), sizeLimitBytes: 2n * BigInt(MiB) });

    expect(loopStatus(loop.path)).toEqual({
      device: loop.path, backingFile: realpathSync(image.path), offsetBytes: BigInt(MiB), sizeLimitBytes: 2n * BigInt(MiB),
      readOnly: false, directIo: false, autoClear: false, partScan: false,
    });
    const [listed] = JSON.parse((await run('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE,OFFSET,SIZELIMIT', loop.path])).stdout).loopdevices;
    expect(listed).toMatchObject({ name: loop.path, 'back-file': realpathSync(image.path), offset: MiB, sizelimit: 2 * MiB });
    expect(blockDeviceGeometry(loop.path).sizeBytes).toBe(2n * BigInt(MiB));

    using device = DirectFile.open(loop.path, 'r');
    const buf = allocAligned(3 * MiB);
    expect(await device.read(buf, 0n)).toBe(2 * MiB); // stops at the size limit
    expect(buf.subarray(0, 2 * MiB).equals(content.subarray(MiB, 3 * MiB))).toBe(true);
  });

  it('attaches read-only devices whose writes fail with EROFS or EPERM naming the device', async () => {
    await using image = await sparseImage(MiB);
    await using loop = attachedLoop(image.path, { readOnly: true });
    expect(loopStatus(loop.path).readOnly).toBe(true);
    expect(readFileSync(`/sys/block/${basename(loop.path)}/ro`, 'utf8').trim()).toBe('1');
    let caught: unknown;
    try {
      using device = DirectFile.open(loop.path, 'r+');
      await device.write(allocAligned(4096).fill(1), 0n);
    } catch (error) {
      caught = error;
    }
    console.log(`write to a read-only loop device: ${(caught as Error).message}`);
    expect(isNativeError(caught)).toBe(true);
    expect(caught).toMatchObject({ path: loop.path });
    expect(['EROFS', 'EPERM', 'EACCES']).toContain((caught as { code: string }).code);
  });

  it('reports direct I/O and keeps an autoClear device bound while this process holds it', async () => {
    await using image = await sparseImage(MiB);
    await using loop = attachedLoop(image.path, { directIo: true, autoClear: true });
    expect(loopStatus(loop.path)).toMatchObject({ directIo: true, autoClear: true });
    expect(boundBackingFile(loop.path)).toBe(realpathSync(image.path));
    detachLoop(loop.path);
    expect(boundBackingFile(loop.path)).not.toBe(realpathSync(image.path)); // the number may already be reused by others
  });

  it('detaches with detachLoop, after which losetup lists no device for the image', async () => {
    await using image = await sparseImage(MiB);
    const device = attachLoop(image.path);
    try {
      expect(boundBackingFile(device)).toBe(realpathSync(image.path));
    } finally {
      detachLoop(device);
    }
    expect(boundBackingFile(device)).not.toBe(realpathSync(image.path));
    // Another process may reuse the number at once, so ask losetup about our file, not about the device.
    expect((await run('losetup', ['--associated', image.path])).stdout).toBe('');
  });

  it('takes down BLKPG partition nodes when it detaches, so the next user of the number finds none', async () => {
    await using image = await sparseImage(16 * MiB);
    const device = attachLoop(image.path);
    try {
      addPartitionNode(device, 1, BigInt(MiB), BigInt(4 * MiB));
      expect(partitionNodesOf(device)).toEqual([1]);
    } finally {
      detachLoop(device);
    }
    expect(partitionNodesOf(device)).toEqual([]);
  });

  it('refuses a block size that is not a power of two before touching the kernel', async () => {
    await using image = await sparseImage(MiB);
    expect(() => attachLoop(image.path, { blockSize: 1000 })).toThrow(/Expected blockSize to be a power of two of at least 512, got 1000/);
  });

  it('fails on a missing backing file with ENOENT from open', () => {
    expect(() => attachLoop('/tmp/shadowdisk-no-such-image.img')).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'open', path: '/tmp/shadowdisk-no-such-image.img' }),
    );
  });
});
