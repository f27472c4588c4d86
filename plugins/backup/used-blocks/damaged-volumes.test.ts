import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShadowError } from '../../../sdk/index.js';
import { run, tempDir } from '../../../test/helpers/index.js';
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
});
