import { allBlocksUsed, type ByteReader, type UsedBlockMap } from './used-block-map.js';
export function ntfsUsedBlocks(_read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  return allBlocksUsed(volumeSizeBytes, 'ntfs', 'all blocks');
}
