import { allBlocksUsed, type ByteReader, type UsedBlockMap } from './used-block-map.js';
export function xfsUsedBlocks(_read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  return allBlocksUsed(volumeSizeBytes, 'xfs', 'all blocks');
}
