import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShadowError } from '../../../sdk/index.js';
import { run, tempDir } from '../../../test/helpers/index.js';
import { crc32c } from './crc32c.js';
import { fatUsedBlocks } from './fat-used-blocks.js';
import { usedBlockMap } from './used-block-map.js';

async function freshImage(sizeMiB: number, command: string, args: string[]): Promise<Uint8Array> {
  await using scratch = await tempDir();
  const image = join(scratch.path, 'fs.img');
  await run('truncate', ['-s', `${sizeMiB}M`, image]);
  await run(command, [...args, image]);
  return new Uint8Array(await readFile(image));
}

const readerOf = (bytes: Uint8Array) => (offset: number, length: number) => {
  if (offset < 0 || offset + length > bytes.length) throw new RangeError(`Read past the end at ${offset}+${length}`);
  return bytes.slice(offset, offset + length);
};

function expectShadowError(action: () => unknown, code: string, message: RegExp): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ShadowError);
    expect((error as ShadowError).code).toBe(code);
    expect((error as ShadowError).message).toMatch(message);
    return;
  }
  throw new Error(`Expected a ShadowError ${code} matching ${message}, but nothing was thrown`);
}

const setU32 = (bytes: Uint8Array, offset: number, value: number) => new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset, value, true);

/** Rewrites the crc32c btrfs keeps in the first 4 bytes of a superblock or node (over its bytes after the first 32). */
const resealBtrfs = (bytes: Uint8Array, offset: number, length: number) => setU32(bytes, offset, crc32c(bytes.subarray(offset + 32, offset + length)));
const BTRFS_SUPER = 0x10000;

/** Where btrfs-progs puts the (single-leaf) extent tree of a fresh btrfs: its logical address and each copy's physical offset. */
async function btrfsExtentLeaf(bytes: Uint8Array): Promise<{ logical: number; copies: number[] }> {
  await using scratch = await tempDir();
  const image = join(scratch.path, 'fs.img');
  await writeFile(image, bytes);
  const dump = (await run('btrfs', ['inspect-internal', 'dump-tree', '-t', 'extent', image])).stdout;
  const logical = Number(/^leaf (\d+) items/m.exec(dump)?.[1]);
  const mapped = (await run('btrfs-map-logical', ['-l', String(logical), image])).stdout;
  return { logical, copies: [...mapped.matchAll(/physical (\d+)/g)].map((m) => Number(m[1])) };
}

describe('used-block maps of damaged or unreadable volumes', () => {
  it('refuses an ext volume cut short of its block count, naming s_blocks_count', async () => {
    const ext = await freshImage(16, 'mkfs.ext4', ['-q', '-F', '-b', '4096']);
    expectShadowError(() => usedBlockMap(readerOf(ext), 12 * 1024 * 1024), 'INVALID_ARGUMENT', /s_blocks_count is '4096' but should fit the volume of 12582912 bytes/);
  });

  it('refuses ext with an impossible blocks-per-group, and one whose group descriptor points outside the filesystem', async () => {
    const ext = await freshImage(16, 'mkfs.ext4', ['-q', '-F', '-b', '4096']);
    const zeroGroups = ext.slice();
    setU32(zeroGroups, 1024 + 0x20, 0);
    expectShadowError(() => usedBlockMap(readerOf(zeroGroups), zeroGroups.length), 'INVALID_ARGUMENT', /s_blocks_per_group is '0'/);
    const badDescriptor = ext.slice();
    setU32(badDescriptor, 4096, 999_999); // group 0's block bitmap, in the descriptor block after the superblock
    expectShadowError(() => usedBlockMap(readerOf(badDescriptor), badDescriptor.length), 'INVALID_ARGUMENT', /group 0 bg_block_bitmap is '999999'/);
  });

  it('leaves ext with an unknown incompatible feature or a journal to replay to the all-blocks fallback (UNSUPPORTED)', async () => {
    const ext = await freshImage(16, 'mkfs.ext4', ['-q', '-F', '-b', '4096']);
    const unknownFeature = ext.slice();
    setU32(unknownFeature, 1024 + 0x60, new DataView(ext.buffer).getUint32(1024 + 0x60, true) | 0x40000000);
    expectShadowError(() => usedBlockMap(readerOf(unknownFeature), unknownFeature.length), 'UNSUPPORTED', /unknown incompatible features 0x40000000/);
    const needsRecovery = ext.slice();
    setU32(needsRecovery, 1024 + 0x60, new DataView(ext.buffer).getUint32(1024 + 0x60, true) | 0x4);
    expectShadowError(() => usedBlockMap(readerOf(needsRecovery), needsRecovery.length), 'UNSUPPORTED', /journal needs recovery/);
  });

  it('refuses a FAT volume whose BPB claims more sectors than the volume has', async () => {
    const fat = await freshImage(32, 'mkfs.vfat', ['-F', '16']);
    expectShadowError(() => fatUsedBlocks(readerOf(fat), 16 * 1024 * 1024), 'INVALID_ARGUMENT', /total sectors is '65536' but should fit the volume of 16777216 bytes/);
  });

  it('refuses NTFS whose $Bitmap record lost its FILE signature, naming the record', async () => {
    const ntfs = await freshImage(32, 'mkfs.ntfs', ['-q', '-F', '-f']);
    const view = new DataView(ntfs.buffer);
    const clusterSize = view.getUint16(0x0b, true) * ntfs[0x0d]!;
    const mft = Number(view.getBigUint64(0x30, true)) * clusterSize;
    ntfs.set([0x42, 0x41, 0x41, 0x44], mft + 6 * 1024); // 'BAAD': what chkdsk writes over a torn record
    expectShadowError(() => usedBlockMap(readerOf(ntfs), ntfs.length), 'INVALID_ARGUMENT', /MFT record 6 \(\$Bitmap\) signature is 'BAAD' but should be 'FILE'/);
  });

  it('leaves a swap header of an unknown version to the fallback (UNSUPPORTED)', async () => {
    const swap = await freshImage(8, 'mkswap', []);
    setU32(swap, 1024, 2);
    expectShadowError(() => usedBlockMap(readerOf(swap), swap.length), 'UNSUPPORTED', /swap header version is '2'/);
  });

  it('refuses btrfs cut short of its device size, naming dev_item.total_bytes', async () => {
    const btrfs = await freshImage(128, 'mkfs.btrfs', ['-q', '-f']);
    expectShadowError(() => usedBlockMap(readerOf(btrfs), 100 * 1024 * 1024), 'INVALID_ARGUMENT', /dev_item\.total_bytes is '134217728' but should fit the volume of 104857600 bytes; the volume is truncated/);
  });

  it('refuses a btrfs superblock whose checksum does not match its bytes', async () => {
    const btrfs = await freshImage(128, 'mkfs.btrfs', ['-q', '-f']);
    btrfs[BTRFS_SUPER + 0x12b] = 0x41; // the first byte of the label, outside any field we read
    expectShadowError(() => usedBlockMap(readerOf(btrfs), btrfs.length), 'INVALID_ARGUMENT', /superblock checksum is '[0-9a-f]{8}' but should be the crc32c of bytes 32 to 4095/);
  });

  it('leaves multi-device btrfs, a tree log to replay, a zoned volume and a RAID0 profile to the fallback (UNSUPPORTED)', async () => {
    const btrfs = await freshImage(128, 'mkfs.btrfs', ['-q', '-f']);
    const twoDevices = btrfs.slice();
    setU32(twoDevices, BTRFS_SUPER + 0x88, 2);
    resealBtrfs(twoDevices, BTRFS_SUPER, 4096);
    expectShadowError(() => usedBlockMap(readerOf(twoDevices), twoDevices.length), 'UNSUPPORTED', /num_devices is '2'; only single-device btrfs is read/);
    const withLog = btrfs.slice();
    setU32(withLog, BTRFS_SUPER + 0x60, 0x1d00000);
    resealBtrfs(withLog, BTRFS_SUPER, 4096);
    expectShadowError(() => usedBlockMap(readerOf(withLog), withLog.length), 'UNSUPPORTED', /log_root is '30408704', a tree log to replay/);
    const zoned = btrfs.slice();
    setU32(zoned, BTRFS_SUPER + 0xbc, new DataView(btrfs.buffer).getUint32(BTRFS_SUPER + 0xbc, true) | 0x1000);
    resealBtrfs(zoned, BTRFS_SUPER, 4096);
    expectShadowError(() => usedBlockMap(readerOf(zoned), zoned.length), 'UNSUPPORTED', /the volume is zoned/);
    const raid0 = await freshImage(300, 'mkfs.btrfs', ['-q', '-f', '-d', 'raid0', '-m', 'single']);
    expectShadowError(() => usedBlockMap(readerOf(raid0), raid0.length), 'UNSUPPORTED', /chunk at logical \d+ has profile RAID0; only SINGLE and DUP are read/);
  });

  it('reads a DUP btrfs tree node from its second copy when the first is damaged, and refuses it when both are', async () => {
    const btrfs = await freshImage(128, 'mkfs.btrfs', ['-q', '-f']);
    const intact = usedBlockMap(readerOf(btrfs), btrfs.length);
    const leaf = await btrfsExtentLeaf(btrfs);
    expect(leaf.copies).toHaveLength(2);
    btrfs[leaf.copies[0]! + 200] ^= 0xff;
    expect(usedBlockMap(readerOf(btrfs), btrfs.length).bitmap).toEqual(intact.bitmap);
    btrfs[leaf.copies[1]! + 200] ^= 0xff;
    expectShadowError(() => usedBlockMap(readerOf(btrfs), btrfs.length), 'INVALID_ARGUMENT', new RegExp(`extent tree node at logical ${leaf.logical} \\(copy 1\\) checksum is '[0-9a-f]{8}' but should be the crc32c`));
  });

  it('refuses a btrfs leaf whose keys are out of order even when its checksum is valid', async () => {
    const btrfs = await freshImage(128, 'mkfs.btrfs', ['-q', '-f']);
    const leaf = await btrfsExtentLeaf(btrfs);
    const nodeSize = new DataView(btrfs.buffer).getUint32(BTRFS_SUPER + 0x94, true);
    for (const copy of leaf.copies) {
      // Swap the keys of items 0 and 1 (each item header is a 17-byte key, then data offset and size).
      const first = btrfs.slice(copy + 101, copy + 101 + 17);
      btrfs.copyWithin(copy + 101, copy + 101 + 25, copy + 101 + 25 + 17);
      btrfs.set(first, copy + 101 + 25);
      resealBtrfs(btrfs, copy, nodeSize);
    }
    expectShadowError(() => usedBlockMap(readerOf(btrfs), btrfs.length), 'INVALID_ARGUMENT', new RegExp(`extent tree node at logical ${leaf.logical} key 1 is '\\(\\d+ \\d+ \\d+\\)' but should sort after`));
  });
});
