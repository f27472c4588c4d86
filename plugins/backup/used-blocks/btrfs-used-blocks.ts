import { allBlocksUsed, type ByteReader, type UsedBlockMap } from './used-block-map.js';
export function btrfsUsedBlocks(_read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  return allBlocksUsed(volumeSizeBytes, 'btrfs', 'all blocks');
}
