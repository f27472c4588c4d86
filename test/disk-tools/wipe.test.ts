// `disk wipe`: each method judged by libblkid (wipefs --no-act, blkid -p) and by reading the bytes back; busy targets
// refused with the disk byte for byte unchanged.
import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ShadowdiskHost } from '../../core/node/index.js';
import { loopDevice, mkfs, mount, sparseImage } from '../helpers/index.js';
import { blkidFinds, MiB, partitionedDisk, sha256, wipefsList, withHost } from './disk-fixtures.js';

const wipe = (host: ShadowdiskHost, target: string, options: Record<string, string | boolean>) =>
  host.executeCommand('shadowdisk.disk-tools.wipe', { positionals: [target], options });

interface WipeData {
  signatures: { device: string; type: string; offsetBytes: number; lengthBytes: number }[];
  erasedSignatures: { device: string; type: string; offsetBytes: number; lengthBytes: number; oldBytesHex: string }[];
  remainingSignatures: unknown[];
  verify: { checkedBytes: number; mismatchedBytes: number } | null;
}

const GPT_TWO = 'label: gpt\n,24MiB,L\n,24MiB,L\n';

/** Fills a device with random bytes, then a filesystem on top (so no method can pass by finding zeros already). */
async function randomFill(device: string, sizeBytes: number): Promise<void> {
  const handle = await open(device, 'r+');
  try {
    for (let offset = 0; offset < sizeBytes; offset += 4 * MiB) await handle.write(randomBytes(Math.min(4 * MiB, sizeBytes - offset)), 0, Math.min(4 * MiB, sizeBytes - offset), offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

describe('disk wipe', () => {
  it('lists every signature in a dry run, then erases exactly their magic bytes on the disk and its partitions', async () => {
    await using disk = await partitionedDisk(64, GPT_TWO);
    await mkfs(disk.partitions[0]!, 'ext4', { label: 'one' });
    await mkfs(disk.partitions[1]!, 'vfat', { label: 'TWO' });
    await withHost(async (host) => {
      const before = await readFile(disk.image.path);
      const dry = (await wipe(host, disk.loop.path, { method: 'signatures', 'dry-run': true })).data as WipeData;
      // Exactly what wipefs --no-act lists on each device, and the kinds expected there.
      for (const device of [disk.loop.path, ...disk.partitions]) {
        expect(dry.signatures.filter((s) => s.device === device).map((s) => `${s.type}@0x${s.offsetBytes.toString(16)}`).sort()).toEqual((await wipefsList(device)).sort());
      }
      expect(new Set(dry.signatures.map((s) => s.type))).toEqual(new Set(['PMBR', 'gpt', 'ext4', 'vfat']));
      expect((await readFile(disk.image.path)).equals(before)).toBe(true);

      const done = (await wipe(host, disk.loop.path, { method: 'signatures', yes: true, verify: true })).data as WipeData;
      expect(done.remainingSignatures).toEqual([]);
      for (const device of [disk.loop.path, ...disk.partitions]) {
        expect(await wipefsList(device)).toEqual([]);
        expect(await blkidFinds(device)).toEqual([]);
      }
      // Only the magic bytes changed: everything else of the disk is as it was.
      const after = await readFile(disk.image.path);
      const starts = new Map([[disk.loop.path, 0], [disk.partitions[0]!, MiB], [disk.partitions[1]!, 25 * MiB]]);
      const expected = Buffer.from(before);
      for (const s of done.erasedSignatures) {
        const at = starts.get(s.device)! + s.offsetBytes;
        expect(before.subarray(at, at + s.lengthBytes).toString('hex')).toBe(s.oldBytesHex);
        expected.fill(0, at, at + s.lengthBytes);
      }
      expect(after.equals(expected)).toBe(true);
      expect(done.erasedSignatures.length).toBeGreaterThanOrEqual(5);
    });
  });

  it('zero-fills a partition in two passes and verifies it, leaving its neighbour untouched', async () => {
    await using disk = await partitionedDisk(64, GPT_TWO);
    await randomFill(disk.partitions[0]!, 24 * MiB);
    await mkfs(disk.partitions[0]!, 'ext4');
    await mkfs(disk.partitions[1]!, 'swap');
    await withHost(async (host) => {
      const neighbour = await sha256(disk.partitions[1]!);
      const done = (await wipe(host, disk.partitions[0]!, { method: 'zero', passes: '2', verify: true, yes: true })).data as WipeData;
      expect(done.verify).toEqual({ checkedBytes: 24 * MiB, mismatchedBytes: 0, firstMismatchOffset: null });
      const bytes = (await readFile(disk.image.path)).subarray(MiB, 25 * MiB);
      expect(bytes.every((b) => b === 0)).toBe(true);
      expect(await wipefsList(disk.partitions[0]!)).toEqual([]);
      expect(await blkidFinds(disk.partitions[0]!)).toEqual([]);
      expect(await sha256(disk.partitions[1]!)).toBe(neighbour);
      expect(await wipefsList(disk.partitions[1]!)).toEqual(['swap@0xff6']);
      expect(await blkidFinds(disk.partitions[1]!)).toEqual(['TYPE=swap']);
    });
  });

  it('fills a whole disk with random data that verifies and that libblkid finds nothing in', async () => {
    await using disk = await partitionedDisk(32, 'label: dos\n,16MiB,L\n');
    await mkfs(disk.partitions[0]!, 'ext4');
    await withHost(async (host) => {
      const done = (await wipe(host, disk.loop.path, { method: 'random', verify: true, yes: true })).data as WipeData;
      expect(done.verify).toMatchObject({ checkedBytes: 32 * MiB, mismatchedBytes: 0 });
      const bytes = await readFile(disk.image.path);
      // Random data: no 4 KiB block is left zero, and it does not compress.
      for (let offset = 0; offset < bytes.length; offset += 4096) expect(bytes.subarray(offset, offset + 4096).some((b) => b !== 0)).toBe(true);
      const { zstdCompressSync } = await import('node:zlib');
      expect(zstdCompressSync(bytes).length).toBeGreaterThan(bytes.length * 0.99);
      expect(await wipefsList(disk.loop.path)).toEqual([]);
      expect(await blkidFinds(disk.loop.path)).toEqual([]);
    });
  });

  it('discards a loop device and an image file: the files keep no blocks and read back zeros', async () => {
    await using image = await sparseImage(32 * MiB);
    await using loop = await loopDevice(image.path);
    await randomFill(loop.path, 32 * MiB);
    await mkfs(loop.path, 'ext4');
    expect((await stat(image.path)).blocks).toBeGreaterThan(0);
    await withHost(async (host) => {
      const done = (await wipe(host, loop.path, { method: 'discard', verify: true, yes: true })).data as WipeData;
      expect(done.verify).toMatchObject({ mismatchedBytes: 0 });
      expect((await stat(image.path)).blocks).toBe(0);
      expect((await readFile(image.path)).every((b) => b === 0)).toBe(true);
      expect(await wipefsList(loop.path)).toEqual([]);
    });
    // An image file is punched into a hole the same way.
    await using file = await sparseImage(8 * MiB);
    await randomFill(file.path, 8 * MiB);
    await withHost(async (host) => {
      expect((await wipe(host, file.path, { method: 'discard', verify: true, yes: true })).data).toMatchObject({ verify: { mismatchedBytes: 0 } });
      expect((await stat(file.path)).blocks).toBe(0);
      expect((await stat(file.path)).size).toBe(8 * MiB);
    });
  });

  it('refuses a disk whose partition is mounted, and that partition, with nothing written', async () => {
    await using disk = await partitionedDisk(64, GPT_TWO);
    await mkfs(disk.partitions[0]!, 'ext4');
    await withHost(async (host) => {
      await using mounted = await mount(disk.partitions[0]!);
      const before = await sha256(disk.image.path);
      for (const [target, method] of [[disk.loop.path, 'signatures'], [disk.loop.path, 'zero'], [disk.partitions[0]!, 'random'], [disk.partitions[0]!, 'discard']] as const) {
        await expect(wipe(host, target, { method, yes: true })).rejects.toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(`is mounted on ${mounted.mountpoint}`) });
      }
      expect(await sha256(disk.image.path)).toBe(before);
      // The dry run still lists what is there and says why it would be refused.
      const dry = await wipe(host, disk.loop.path, { method: 'signatures', 'dry-run': true });
      expect(dry.text).toContain(`${disk.partitions[0]} is mounted on ${mounted.mountpoint}`);
      // The other, unmounted partition may be wiped.
      await wipe(host, disk.partitions[1]!, { method: 'zero', yes: true });
    });
  });
});
