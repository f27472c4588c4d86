// The used-block map an image backup copies by: one bit per filesystem block, read from the filesystem's own
// on-disk structures by a pure reader per filesystem; anything unrecognised maps as every block used.
import { btrfsUsedBlocks } from './btrfs-used-blocks.js';
import { detectFilesystem } from './detect-filesystem.js';
import { extUsedBlocks } from './ext-used-blocks.js';
import { fatUsedBlocks } from './fat-used-blocks.js';
import { ntfsUsedBlocks } from './ntfs-used-blocks.js';
import { swapUsedBlocks } from './swap-used-blocks.js';
import { UsedBlockMapBuilder } from './used-block-map-builder.js';
import { xfsUsedBlocks } from './xfs-used-blocks.js';

/** Reads from the start of the partition or volume; throws when asked for bytes past its end. */
export type ByteReader = (offsetBytes: number, lengthBytes: number) => Uint8Array;

export interface UsedBlockMap {
  /** Bytes per map bit: the filesystem's block or cluster size, or 4096 for the fallback. */
  readonly blockSize: number;
  /** ceil(volumeSizeBytes / blockSize). */
  readonly totalBlocks: number;
  /** Bit i (LSB-first within each byte) set means block i is used. */
  readonly bitmap: Uint8Array;
  /** 'ext2', 'ext3', 'ext4', 'vfat', 'ntfs', 'swap', 'xfs', 'btrfs' or 'unknown'. */
  readonly filesystem: string;
  /** How the map was derived, e.g. 'ext4 block bitmaps', 'FAT', 'NTFS $Bitmap', 'swap header', 'all blocks'. */
  readonly method: string;
}

export interface UsedRun {
  readonly startBlock: number;
  readonly blockCount: number;
}

export const FALLBACK_BLOCK_SIZE = 4096;

export function isBlockUsed(map: UsedBlockMap, block: number): boolean {
  if (!Number.isInteger(block) || block < 0 || block >= map.totalBlocks) return false;
  return (map.bitmap[block >>> 3]! & (1 << (block & 7))) !== 0;
}

export function usedBlockCount(map: UsedBlockMap): number {
  let count = 0;
  const fullBytes = map.totalBlocks >>> 3;
  for (let i = 0; i < fullBytes; i++) count += POPCOUNT[map.bitmap[i]!]!;
  for (let block = fullBytes * 8; block < map.totalBlocks; block++) if (isBlockUsed(map, block)) count++;
  return count;
}

/** Bytes the used blocks cover (whole blocks: a last block that runs past the volume counts in full). */
export function usedBytes(map: UsedBlockMap): number {
  return usedBlockCount(map) * map.blockSize;
}

/** Maximal runs of used blocks, in block order. */
export function usedRuns(map: UsedBlockMap): UsedRun[] {
  const runs: UsedRun[] = [];
  let start = -1;
  for (let block = 0; block < map.totalBlocks; ) {
    const byte = map.bitmap[block >>> 3]!;
    // Whole bytes at a time: runs of free or used blocks are long on real filesystems.
    if ((block & 7) === 0 && block + 8 <= map.totalBlocks && (byte === 0 || byte === 0xff)) {
      if (byte === 0 && start >= 0) runs.push({ startBlock: start, blockCount: block - start }), (start = -1);
      if (byte === 0xff && start < 0) start = block;
      block += 8;
      continue;
    }
    const used = (byte & (1 << (block & 7))) !== 0;
    if (used && start < 0) start = block;
    if (!used && start >= 0) runs.push({ startBlock: start, blockCount: block - start }), (start = -1);
    block++;
  }
  if (start >= 0) runs.push({ startBlock: start, blockCount: map.totalBlocks - start });
  return runs;
}

/** Detects the filesystem by its superblock magic and reads its used-block map; unknown → every block used. */
export function usedBlockMap(read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  switch (detectFilesystem(read, volumeSizeBytes)) {
    case 'ext':
      return extUsedBlocks(read, volumeSizeBytes);
    case 'vfat':
      return fatUsedBlocks(read, volumeSizeBytes);
    case 'ntfs':
      return ntfsUsedBlocks(read, volumeSizeBytes);
    case 'swap':
      return swapUsedBlocks(read, volumeSizeBytes);
    case 'xfs':
      return xfsUsedBlocks(read, volumeSizeBytes);
    case 'btrfs':
      return btrfsUsedBlocks(read, volumeSizeBytes);
    case 'unknown':
      return allBlocksUsed(volumeSizeBytes, 'unknown', 'all blocks');
  }
}

/** Every block used: the map for filesystems we cannot read (the engine elides all-zero blocks itself). */
export function allBlocksUsed(volumeSizeBytes: number, filesystem: string, method: string, blockSize = FALLBACK_BLOCK_SIZE): UsedBlockMap {
  const builder = UsedBlockMapBuilder.forVolume(volumeSizeBytes, blockSize);
  builder.markUsed(0, builder.totalBlocks);
  return builder.build(filesystem, method);
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let bits = 0;
  for (let b = byte; b !== 0; b >>>= 1) bits += b & 1;
  return bits;
});
