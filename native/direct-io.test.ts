import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loopDevice, sparseImage } from '../test/helpers/index.js';
import { allocAligned, DirectFile, isNativeError } from './index.js';

const MiB = 1024 * 1024;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject');
}

describe('DirectFile', () => {
  it('writes and reads back a MiB with O_DIRECT on a loop device, and the backing file holds the same bytes', async () => {
    await using image = await sparseImage(8 * MiB);
    await using loop = await loopDevice(image.path);
    using device = DirectFile.open(loop.path, 'r+');
    expect(device.alignment).toBe(512);
    const written = allocAligned(MiB);
    randomBytes(MiB).copy(written);

    expect(await device.write(written, 64n * 1024n)).toBe(MiB);
    const read = allocAligned(MiB);
    expect(await device.read(read, 64n * 1024n)).toBe(MiB);

    expect(read.equals(written)).toBe(true);
    expect(readFileSync(image.path).subarray(64 * 1024, 64 * 1024 + MiB).equals(written)).toBe(true);
  });

  it('runs several transfers concurrently off the event loop', async () => {
    await using image = await sparseImage(8 * MiB);
    await using loop = await loopDevice(image.path);
    using device = DirectFile.open(loop.path, 'r+');
    const chunks = Array.from({ length: 8 }, (_, i) => allocAligned(MiB).fill(i + 1));
    let settled = false;
    let immediateBeforeSettled: boolean | undefined;
    const writes = Promise.all(chunks.map((chunk, i) => device.write(chunk, BigInt(i * MiB)))).finally(() => (settled = true));
    setImmediate(() => (immediateBeforeSettled = !settled));
    await writes;
    expect(immediateBeforeSettled, 'the writes blocked the event loop until they were done').toBe(true);
    const backing = readFileSync(image.path);
    for (let i = 0; i < 8; i++) expect(backing.subarray(i * MiB, (i + 1) * MiB).every((b) => b === i + 1)).toBe(true);
  });

  it('returns a short count when a read runs past the end of the device', async () => {
    await using image = await sparseImage(MiB);
    await using loop = await loopDevice(image.path);
    using device = DirectFile.open(loop.path, 'r');
    expect(await device.read(allocAligned(8192), BigInt(MiB - 512))).toBe(512);
    expect(await device.read(allocAligned(4096), BigInt(MiB))).toBe(0);
  });

  it('refuses a buffer whose address is not sector-aligned, saying what O_DIRECT requires', async () => {
    await using image = await sparseImage(MiB);
    await using loop = await loopDevice(image.path);
    using device = DirectFile.open(loop.path, 'r');
    const misaligned = allocAligned(8192).subarray(1, 1 + 4096);
    const error = await rejection(device.read(misaligned, 0n));
    expect(isNativeError(error)).toBe(true);
    expect(error).toMatchObject({ errno: 22, code: 'EINVAL', syscall: 'pread', path: loop.path });
    expect((error as Error).message).toMatch(
      new RegExp(`^pread failed on '${loop.path}': buffer address 0x[0-9a-f]+ is not a multiple of 512 bytes as O_DIRECT requires; allocate it with allocAligned\\(\\)`),
    );
  });

  it('refuses a misaligned offset or length before any I/O', async () => {
    await using image = await sparseImage(MiB);
    await using loop = await loopDevice(image.path);
    using device = DirectFile.open(loop.path, 'r+');
    expect(await rejection(device.write(allocAligned(4096), 100n))).toMatchObject({ code: 'EINVAL', syscall: 'pwrite', message: expect.stringContaining('offset 100 is not a multiple of 512 bytes') });
    expect(await rejection(device.write(allocAligned(4096).subarray(0, 1000), 0n))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('buffer length 1000 is not a multiple of 512 bytes') });
  });

  it('rejects transfers after close and closes once the transfers in flight are done', async () => {
    await using image = await sparseImage(MiB);
    await using loop = await loopDevice(image.path);
    const device = DirectFile.open(loop.path, 'r');
    const inFlight = device.read(allocAligned(MiB), 0n);
    device.close();
    expect(await inFlight).toBe(MiB);
    await expect(device.read(allocAligned(4096), 0n)).rejects.toThrow(`Cannot read '${loop.path}': the DirectFile is closed`);
  });

  it('fails to open a missing device with ENOENT', () => {
    expect(() => DirectFile.open('/dev/shadowdisk-missing', 'r')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open', path: '/dev/shadowdisk-missing' }));
  });
});

describe('allocAligned', () => {
  it('allocates buffers of the asked size and refuses alignments that are not powers of two', () => {
    expect(allocAligned(12345).length).toBe(12345);
    expect(allocAligned(0).length).toBe(0);
    expect(() => allocAligned(4096, 3000)).toThrow(/Expected alignment to be a power of two of at least 8, got 3000/);
  });
});
