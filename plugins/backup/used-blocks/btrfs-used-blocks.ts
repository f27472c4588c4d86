// btrfs used blocks: not read yet. Its allocation lives in the chunk tree (logical → physical) and the extent tree
// (allocated logical ranges), both copy-on-write B-trees; until they are walked, every block is copied.
import { allBlocksUsed, type ByteReader, type UsedBlockMap } from './used-block-map.js';

export function btrfsUsedBlocks(_read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  return allBlocksUsed(volumeSizeBytes, 'btrfs', 'all blocks (fallback: btrfs chunk and extent trees are not read yet)');
}
