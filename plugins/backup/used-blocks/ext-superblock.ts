// The ext2/3/4 superblock fields and group-descriptor layout a used-block map needs, checked for sense.
import { ShadowError } from '../../../sdk/index.js';
import { expectField, u16, u32 } from './le-fields.js';
import type { ByteReader } from './used-block-map.js';

const COMPAT_SPARSE_SUPER2 = 0x200;
const COMPAT_HAS_JOURNAL = 0x4;
const INCOMPAT_COMPRESSION = 0x1;
const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_JOURNAL_DEV = 0x8;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_EXTENTS = 0x40;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_FLEX_BG = 0x200;
/** Incompatible features that leave block bitmaps and group layout as we read them. */
const INCOMPAT_UNDERSTOOD = 0x2 | INCOMPAT_RECOVER | INCOMPAT_META_BG | INCOMPAT_EXTENTS | INCOMPAT_64BIT | 0x100 | INCOMPAT_FLEX_BG | 0x400 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000;
const RO_COMPAT_SPARSE_SUPER = 0x1;
const RO_COMPAT_GDT_CSUM = 0x10;
const RO_COMPAT_HAS_SNAPSHOT = 0x80;
const RO_COMPAT_BIGALLOC = 0x200;
const RO_COMPAT_METADATA_CSUM = 0x400;

export interface ExtSuperblock {
  readonly flavour: 'ext2' | 'ext3' | 'ext4';
  readonly blockSize: number;
  readonly blocksCount: number;
  readonly freeBlocksCount: number;
  readonly firstDataBlock: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly inodeSize: number;
  readonly groupCount: number;
  readonly descSize: number;
  readonly descBlocks: number;
  readonly reservedGdtBlocks: number;
  readonly firstMetaBg: number;
  readonly metaBg: boolean;
  readonly flexBg: boolean;
  readonly sparseSuper: boolean;
  readonly sparseSuper2: readonly [number, number] | undefined;
  /** BLOCK_UNINIT is honoured only when group descriptors carry checksums (uninit_bg or metadata_csum). */
  readonly groupDescChecksums: boolean;
}

export function readExtSuperblock(read: ByteReader, volumeSizeBytes: number): ExtSuperblock {
  const sb = read(1024, 1024);
  const check = (ok: boolean, field: string, value: number, expected: string) => expectField(ok, 'ext', field, value, expected);
  check(u16(sb, 0x38) === 0xef53, 's_magic', u16(sb, 0x38), 'should be 61267 (0xEF53)');
  const compat = u32(sb, 0x5c);
  const incompat = u32(sb, 0x60);
  const roCompat = u32(sb, 0x64);
  const unsupported = (what: string) => new ShadowError('UNSUPPORTED', `Cannot read the ext used-block map: the filesystem ${what}; copy every block instead`);
  if (incompat & INCOMPAT_JOURNAL_DEV) throw unsupported('is an external journal device');
  if (incompat & INCOMPAT_RECOVER) throw unsupported('journal needs recovery (its bitmaps may lag the journal); run e2fsck or back up a frozen snapshot');
  if (incompat & INCOMPAT_COMPRESSION) throw unsupported('uses the compression feature');
  if (incompat & ~INCOMPAT_UNDERSTOOD) throw unsupported(`has unknown incompatible features 0x${(incompat & ~INCOMPAT_UNDERSTOOD).toString(16)}`);
  if (roCompat & RO_COMPAT_BIGALLOC) throw unsupported('uses bigalloc (bitmaps count clusters)');
  if (roCompat & RO_COMPAT_HAS_SNAPSHOT) throw unsupported('carries next3 snapshots');

  const logBlockSize = u32(sb, 0x18);
  check(logBlockSize <= 6, 's_log_block_size', logBlockSize, 'should be at most 6 (64 KiB blocks)');
  const blockSize = 1024 << logBlockSize;
  const is64bit = (incompat & INCOMPAT_64BIT) !== 0;
  const blocksCount = u32(sb, 0x4) + (is64bit ? u32(sb, 0x150) * 2 ** 32 : 0);
  const freeBlocksCount = u32(sb, 0xc) + (is64bit ? u32(sb, 0x158) * 2 ** 32 : 0);
  const firstDataBlock = u32(sb, 0x14);
  const blocksPerGroup = u32(sb, 0x20);
  const inodesPerGroup = u32(sb, 0x28);
  const revLevel = u32(sb, 0x4c);
  const inodeSize = revLevel === 0 ? 128 : u16(sb, 0x58);
  check(firstDataBlock === (blockSize === 1024 ? 1 : 0), 's_first_data_block', firstDataBlock, `should be ${blockSize === 1024 ? 1 : 0} for ${blockSize}-byte blocks`);
  check(blocksPerGroup > 0 && blocksPerGroup <= 8 * blockSize && blocksPerGroup % 8 === 0, 's_blocks_per_group', blocksPerGroup, `should be a multiple of 8 up to ${8 * blockSize}`);
  check(inodesPerGroup > 0 && inodesPerGroup <= 8 * blockSize, 's_inodes_per_group', inodesPerGroup, `should be between 1 and ${8 * blockSize}`);
  check(inodeSize >= 128 && inodeSize <= blockSize && (inodeSize & (inodeSize - 1)) === 0, 's_inode_size', inodeSize, 'should be a power of two from 128 to the block size');
  check(blocksCount > firstDataBlock, 's_blocks_count', blocksCount, `should exceed s_first_data_block ${firstDataBlock}`);
  check(blocksCount * blockSize <= volumeSizeBytes, 's_blocks_count', blocksCount, `should fit the volume of ${volumeSizeBytes} bytes (${Math.floor(volumeSizeBytes / blockSize)} blocks of ${blockSize}); the volume is truncated`);
  const descSize = is64bit ? u16(sb, 0xfe) : 32;
  check(descSize >= 32 && descSize <= 1024 && (descSize & (descSize - 1)) === 0, 's_desc_size', descSize, 'should be a power of two from 32 to 1024');
  const groupCount = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  const metaBg = (incompat & INCOMPAT_META_BG) !== 0;
  const reservedGdtBlocks = u16(sb, 0xce);
  check(reservedGdtBlocks <= blockSize / 4, 's_reserved_gdt_blocks', reservedGdtBlocks, `should be at most ${blockSize / 4}`);
  const sparseSuper2 = compat & COMPAT_SPARSE_SUPER2 ? ([u32(sb, 0x24c), u32(sb, 0x250)] as const) : undefined;
  const flavour = incompat & (INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG) || roCompat & ~0x7 ? 'ext4' : compat & COMPAT_HAS_JOURNAL ? 'ext3' : 'ext2';
  return {
    flavour,
    blockSize,
    blocksCount,
    freeBlocksCount,
    firstDataBlock,
    blocksPerGroup,
    inodesPerGroup,
    inodeSize,
    groupCount,
    descSize,
    descBlocks: Math.ceil((groupCount * descSize) / blockSize),
    reservedGdtBlocks,
    firstMetaBg: u32(sb, 0x104),
    metaBg,
    flexBg: (incompat & INCOMPAT_FLEX_BG) !== 0,
    sparseSuper: (roCompat & RO_COMPAT_SPARSE_SUPER) !== 0,
    sparseSuper2,
    groupDescChecksums: (roCompat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM)) !== 0,
  };
}

export function groupFirstBlock(sb: ExtSuperblock, group: number): number {
  return sb.firstDataBlock + group * sb.blocksPerGroup;
}

export function groupBlockCount(sb: ExtSuperblock, group: number): number {
  return Math.min(sb.blocksPerGroup, sb.blocksCount - groupFirstBlock(sb, group));
}

/** Whether a group holds a superblock copy (ext2fs_bg_has_super). */
export function groupHasSuper(sb: ExtSuperblock, group: number): boolean {
  if (group === 0) return true;
  if (sb.sparseSuper2) return group === sb.sparseSuper2[0] || group === sb.sparseSuper2[1];
  if (group <= 1 || !sb.sparseSuper) return true;
  if (group % 2 === 0) return false;
  return isPowerOf(group, 3) || isPowerOf(group, 5) || isPowerOf(group, 7);
}

function isPowerOf(n: number, base: number): boolean {
  let value = n;
  while (value % base === 0) value /= base;
  return value === 1;
}

/**
 * The superblock and group-descriptor blocks a group holds (ext2fs_super_and_bgd_loc2): with meta_bg the
 * descriptors live in the first, second and last group of each meta group instead of after every superblock copy.
 */
export function groupSuperAndDescriptorBlocks(sb: ExtSuperblock, group: number): { start: number; count: number } {
  let start = groupFirstBlock(sb, group);
  if (start === 0 && sb.blockSize === 1024) start = 1;
  const hasSuper = groupHasSuper(sb, group) ? 1 : 0;
  const descPerBlock = sb.blockSize / sb.descSize;
  const metaGroup = Math.floor(group / descPerBlock);
  if (!sb.metaBg || metaGroup < sb.firstMetaBg) {
    const oldDescBlocks = sb.metaBg ? sb.firstMetaBg : sb.descBlocks + sb.reservedGdtBlocks;
    return { start, count: hasSuper ? 1 + oldDescBlocks : 0 };
  }
  const indexInMetaGroup = group % descPerBlock;
  const holdsDescriptors = indexInMetaGroup === 0 || indexInMetaGroup === 1 || indexInMetaGroup === descPerBlock - 1;
  return { start, count: hasSuper + (holdsDescriptors ? 1 : 0) };
}

/** Block number of group-descriptor block `index` (the primary copy). */
export function descriptorBlock(sb: ExtSuperblock, index: number): number {
  const descPerBlock = sb.blockSize / sb.descSize;
  if (!sb.metaBg || index < sb.firstMetaBg) return sb.firstDataBlock + 1 + index;
  const group = index * descPerBlock;
  return groupFirstBlock(sb, group) + (groupHasSuper(sb, group) ? 1 : 0);
}
