// ext2/3/4 used blocks: the union of the groups' block bitmaps, with BLOCK_UNINIT groups (no bitmap written yet)
// computed from the layout, and every group's superblock copy, descriptors, bitmaps and inode table marked.
import { descriptorBlock, groupBlockCount, groupFirstBlock, groupSuperAndDescriptorBlocks, readExtSuperblock, type ExtSuperblock } from './ext-superblock.js';
import { expectField, u16, u32 } from './le-fields.js';
import type { ByteReader, UsedBlockMap } from './used-block-map.js';
import { UsedBlockMapBuilder } from './used-block-map-builder.js';

const BG_BLOCK_UNINIT = 0x2;

export interface ExtGroupDescriptor {
  readonly blockBitmap: number;
  readonly inodeBitmap: number;
  readonly inodeTable: number;
  readonly flags: number;
}

export function extUsedBlocks(read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  const sb = readExtSuperblock(read, volumeSizeBytes);
  const descriptors = readGroupDescriptors(read, sb);
  const builder = UsedBlockMapBuilder.forVolume(volumeSizeBytes, sb.blockSize);
  // Block 0 of a 1 KiB-block filesystem lies before group 0 and holds the boot sector; the accounting counts it.
  builder.markUsed(0, sb.firstDataBlock);
  const inodeTableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize);
  let uninitGroups = 0;
  for (let group = 0; group < sb.groupCount; group++) {
    const descriptor = descriptors[group]!;
    const first = groupFirstBlock(sb, group);
    const count = groupBlockCount(sb, group);
    const blockUninit = sb.groupDescChecksums && (descriptor.flags & BG_BLOCK_UNINIT) !== 0;
    if (blockUninit) uninitGroups++;
    else builder.markFromBitmap(read(descriptor.blockBitmap * sb.blockSize, sb.blockSize), count, first);
    // Metadata is always used, wherever flex_bg put it; for BLOCK_UNINIT groups this is all they hold.
    const superAndDescriptors = groupSuperAndDescriptorBlocks(sb, group);
    builder.markUsed(superAndDescriptors.start, superAndDescriptors.count);
    builder.markUsed(descriptor.blockBitmap, 1);
    builder.markUsed(descriptor.inodeBitmap, 1);
    builder.markUsed(descriptor.inodeTable, inodeTableBlocks);
  }
  // Padding bits of the last group's bitmap are set by mke2fs: nothing past s_blocks_count is used.
  builder.markFreeFrom(sb.blocksCount);
  const method = uninitGroups > 0 ? `${sb.flavour} block bitmaps (${uninitGroups} BLOCK_UNINIT groups from layout)` : `${sb.flavour} block bitmaps`;
  return builder.build(sb.flavour, method);
}

export function readGroupDescriptors(read: ByteReader, sb: ExtSuperblock): ExtGroupDescriptor[] {
  const descriptors: ExtGroupDescriptor[] = [];
  const perBlock = sb.blockSize / sb.descSize;
  const wide = sb.descSize >= 64;
  for (let index = 0; index < sb.descBlocks; index++) {
    const block = read(descriptorBlock(sb, index) * sb.blockSize, sb.blockSize);
    for (let slot = 0; slot < perBlock && descriptors.length < sb.groupCount; slot++) {
      const at = slot * sb.descSize;
      const high = (offset: number) => (wide ? u32(block, at + offset) * 2 ** 32 : 0);
      const descriptor = {
        blockBitmap: u32(block, at) + high(0x20),
        inodeBitmap: u32(block, at + 0x4) + high(0x24),
        inodeTable: u32(block, at + 0x8) + high(0x28),
        flags: u16(block, at + 0x12),
      };
      const group = descriptors.length;
      for (const [field, value] of [['bg_block_bitmap', descriptor.blockBitmap], ['bg_inode_bitmap', descriptor.inodeBitmap], ['bg_inode_table', descriptor.inodeTable]] as const) {
        expectField(value >= sb.firstDataBlock && value < sb.blocksCount, 'ext', `group ${group} ${field}`, value, `should lie within blocks ${sb.firstDataBlock}..${sb.blocksCount - 1}`);
      }
      descriptors.push(descriptor);
    }
  }
  return descriptors;
}
