// The power-cut test disk judged on its own: what was flushed survives a cut, what was not is gone, the Nth write
// cuts, a random-keep cut keeps a subset, and chosen sector ranges fail their reads.
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { allocAligned, DirectFile } from '../../native/index.js';
import { loopDevice, mkfs, mount, powerCutDisk, run, sparseImage } from '../helpers/index.js';

const MiB = 1024 * 1024;
const block = (fill: number, size = 4096) => allocAligned(size).fill(fill);
const fsyncDevice = (device: string) => {
  const fd = openSync(device, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};
const byteAt = async (file: string, offset: number) => (await readFile(file)).subarray(offset, offset + 4096);

describe('power-cut test disk', () => {
  it('keeps flushed writes and drops unflushed ones at a cut, then fails all I/O', async () => {
    await using image = await sparseImage(16 * MiB);
    await using disk = await powerCutDisk(image.path);
    {
      using file = DirectFile.open(disk.device, 'r+');
      await file.write(block(0xaa), 0n);
      fsyncDevice(disk.device);
      await file.write(block(0xbb), 8192n);
      expect(await disk.status()).toMatchObject({ dirtyBlocks: 1, cut: false });
      // Read back through the device before the cut: the unflushed block is visible, as in a drive's cache.
      const back = allocAligned(4096);
      await file.read(back, 8192n);
      expect(back.every((b) => b === 0xbb)).toBe(true);
      await disk.cutNow();
      await disk.stopped();
      await expect(file.read(back, 0n)).rejects.toMatchObject({ code: expect.stringMatching(/EIO|ENOTCONN|ECONNABORTED/) });
    }
    expect((await byteAt(image.path, 0)).every((b) => b === 0xaa)).toBe(true);
    expect((await byteAt(image.path, 8192)).every((b) => b === 0)).toBe(true);
    expect(disk.log()).toMatch(/power cut after \d+ writes .*1 unflushed blocks dropped/);
  });

  it('cuts at the armed write: earlier flushed writes stay, that write and later ones fail', async () => {
    await using image = await sparseImage(16 * MiB);
    await using disk = await powerCutDisk(image.path);
    const results: string[] = [];
    {
      using file = DirectFile.open(disk.device, 'r+');
      await disk.cutAfterWrites(3);
      for (let i = 0; i < 5; i++) {
        try {
          await file.write(block(i + 1), BigInt(i * 4096));
          fsyncDevice(disk.device);
          results.push('ok');
        } catch (error) {
          results.push((error as NodeJS.ErrnoException).code ?? 'error');
        }
      }
    }
    await disk.stopped();
    expect(results.slice(0, 2)).toEqual(['ok', 'ok']);
    expect(results.slice(2).every((r) => r !== 'ok')).toBe(true);
    const bytes = await readFile(image.path);
    for (let i = 0; i < 5; i++) expect(bytes[i * 4096]).toBe(i < 2 ? i + 1 : 0);
  });

  it('keeps a seeded random subset of the unflushed blocks in random-keep mode', async () => {
    await using image = await sparseImage(16 * MiB);
    await using disk = await powerCutDisk(image.path, { cutPersist: 'random', seed: 7 });
    {
      using file = DirectFile.open(disk.device, 'r+');
      await file.write(block(0x5a, MiB), 0n);
      await disk.cutNow();
      await disk.stopped();
    }
    const bytes = await readFile(image.path);
    let kept = 0;
    for (let b = 0; b < 256; b++) {
      const first = bytes[b * 4096]!;
      expect(bytes.subarray(b * 4096, (b + 1) * 4096).every((x) => x === first)).toBe(true);
      if (first === 0x5a) kept++;
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(256);
    expect(disk.log()).toContain(`${256 - kept} unflushed blocks dropped, ${kept} kept`);
  });

  it('fails reads inside the chosen sector ranges with EIO and serves the rest', async () => {
    await using image = await sparseImage(16 * MiB);
    await using disk = await powerCutDisk(image.path, { failReads: [[2048, 8]] });
    using file = DirectFile.open(disk.device, 'r');
    const buf = allocAligned(4096);
    await expect(file.read(buf, 2048n * 512n)).rejects.toMatchObject({ code: 'EIO' });
    await expect(file.read(buf, 2047n * 512n + 512n - 4096n)).resolves.toBe(4096);
    await expect(file.read(buf, 2056n * 512n)).resolves.toBe(4096);
    await disk.failReads([[4096, 1], [6000, 100]]);
    await expect(file.read(buf, 2048n * 512n)).resolves.toBe(4096);
    await expect(file.read(buf, 4096n * 512n)).rejects.toMatchObject({ code: 'EIO' });
    await expect(file.read(buf, 6096n * 512n)).rejects.toMatchObject({ code: 'EIO' });
    expect(await disk.status()).toMatchObject({ readErrors: 3, failReads: ['4096+1', '6000+100'] });
  });

  it("passes a filesystem's flushes through the loop device: a file written and unmounted survives a cut", async () => {
    await using image = await sparseImage(64 * MiB);
    await using disk = await powerCutDisk(image.path);
    await mkfs(disk.device, 'ext4');
    {
      await using mounted = await mount(disk.device);
      await run('sh', ['-c', 'head -c 3000000 /dev/urandom > "$1/data" && sha256sum "$1/data" > "$1/data.sha"', 'write', mounted.mountpoint]);
    }
    await disk.cutNow();
    await disk.stopped();
    await using loop = await loopDevice(image.path);
    expect((await run('e2fsck', ['-fn', loop.path])).code).toBe(0);
    await using again = await mount(loop.path, { options: ['ro'] });
    await run('sh', ['-c', 'cd "$1" && sed "s# .*/data# data#" data.sha | sha256sum -c', 'check', again.mountpoint]);
  });
});
