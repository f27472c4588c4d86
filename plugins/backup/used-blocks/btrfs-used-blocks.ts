// btrfs used blocks: the reserved first MiB, the superblock mirrors, and every extent the extent tree lists (data
// and tree blocks alike, including the free-space tree and any v1 space cache), mapped to the device through the
// chunk tree, both copies for DUP. The chunk, root and extent tree nodes read on the way are marked too.
import { BTRFS_CSUM_NAMES, isBtrfsChecksumVerified } from './btrfs-checksum.js';
import { BTRFS_CHUNK_ITEM_KEY, BtrfsChunkMap } from './btrfs-chunk-map.js';
import { BTRFS_SUPERBLOCK_BYTES, checkBtrfs, readBtrfsSuperblock } from './btrfs-superblock.js';
import { walkBtrfsTree, type BtrfsTreeSource } from './btrfs-tree.js';
import { u64, u8 } from './le-fields.js';
import type { ByteReader, UsedBlockMap } from './used-block-map.js';
import { UsedBlockMapBuilder } from './used-block-map-builder.js';

/** Nothing allocates below 1 MiB: boot code, the primary superblock at 64 KiB. */
const RESERVED_BYTES = 1024 * 1024;
const SUPERBLOCK_MIRRORS = [64 * 1024 ** 2, 256 * 1024 ** 3, 1024 ** 5];
const EXTENT_TREE_OBJECTID = 2;
const ROOT_ITEM_KEY = 132;
const EXTENT_ITEM_KEY = 168;
const METADATA_ITEM_KEY = 169;
/** root_item: an inode item (160 bytes), then generation, root_dirid, bytenr ... and level at byte 238. */
const ROOT_ITEM_GENERATION = 160;
const ROOT_ITEM_BYTENR = 176;
const ROOT_ITEM_LEVEL = 238;

export function btrfsUsedBlocks(read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  const sb = readBtrfsSuperblock(read, volumeSizeBytes);
  const builder = UsedBlockMapBuilder.forVolume(volumeSizeBytes, sb.sectorSize);
  builder.markBytes(0, RESERVED_BYTES);
  for (const mirror of SUPERBLOCK_MIRRORS) if (mirror + BTRFS_SUPERBLOCK_BYTES <= sb.deviceBytes) builder.markBytes(mirror, BTRFS_SUPERBLOCK_BYTES);
  const onNode = (copies: readonly number[]) => copies.forEach((physical) => builder.markBytes(physical, sb.nodeSize));

  // The chunk tree lives in SYSTEM chunks, which the superblock maps; it then maps everything else.
  const systemChunks = BtrfsChunkMap.fromSysChunkArray(sb);
  const chunks = new BtrfsChunkMap(sb);
  const chunkRoot = { name: 'chunk', logical: sb.chunkTree, level: sb.chunkLevel, generation: sb.chunkGeneration };
  walkBtrfsTree({ read, sb, chunks: systemChunks, onNode }, chunkRoot, (item) => {
    if (item.type !== BTRFS_CHUNK_ITEM_KEY) return;
    checkBtrfs(Number.isSafeInteger(item.offset), 'chunk tree CHUNK_ITEM key offset', item.offset, 'should be a logical address below 2^53');
    chunks.addChunkItem(item.data, item.offset);
  });
  for (const chunk of systemChunks.all()) {
    checkBtrfs(chunks.has(chunk), 'sys_chunk_array chunk at logical', chunk.logical, 'should appear in the chunk tree with the same length and stripes');
  }

  const source: BtrfsTreeSource = { read, sb, chunks, onNode };
  let extentRoot: { name: string; logical: number; level: number; generation: number } | undefined;
  walkBtrfsTree(source, { name: 'root', logical: sb.rootTree, level: sb.rootLevel, generation: sb.generation }, (item) => {
    if (item.objectid !== EXTENT_TREE_OBJECTID || item.type !== ROOT_ITEM_KEY) return;
    checkBtrfs(item.data.length > ROOT_ITEM_LEVEL, 'extent tree ROOT_ITEM size', item.data.length, `should be at least ${ROOT_ITEM_LEVEL + 1} bytes`);
    const logical = u64(item.data, ROOT_ITEM_BYTENR, 'btrfs extent tree root bytenr');
    extentRoot = { name: 'extent', logical, level: u8(item.data, ROOT_ITEM_LEVEL), generation: u64(item.data, ROOT_ITEM_GENERATION, 'btrfs extent tree root generation') };
  });
  checkBtrfs(extentRoot !== undefined, 'root tree ROOT_ITEM of the extent tree (objectid 2)', 'missing', 'should be in the root tree');

  let listedBytes = 0;
  walkBtrfsTree(source, extentRoot!, (item) => {
    if (item.type !== EXTENT_ITEM_KEY && item.type !== METADATA_ITEM_KEY) return;
    const length = item.type === METADATA_ITEM_KEY ? sb.nodeSize : item.offset;
    const what = item.type === METADATA_ITEM_KEY ? 'METADATA_ITEM' : 'EXTENT_ITEM';
    checkBtrfs(Number.isSafeInteger(item.objectid) && item.objectid % sb.sectorSize === 0, `extent tree ${what} objectid`, item.objectid, `should be a logical address, a multiple of sectorsize ${sb.sectorSize}`);
    checkBtrfs(Number.isSafeInteger(length) && length > 0 && length % sb.sectorSize === 0, `extent tree ${what} at logical ${item.objectid} length`, length, `should be a non-zero multiple of sectorsize ${sb.sectorSize}`);
    for (const physical of chunks.physical(item.objectid, length, `extent tree ${what}`)) builder.markBytes(physical, length);
    listedBytes += length;
  });
  // The superblock keeps its own count of allocated bytes: a tree that lost a leaf would list fewer.
  checkBtrfs(listedBytes === sb.bytesUsed, 'bytes_used', sb.bytesUsed, `should equal the ${listedBytes} bytes the extent tree lists`);
  const unverified = !isBtrfsChecksumVerified(sb.csumType) ? ` (${BTRFS_CSUM_NAMES[sb.csumType]} checksums not verified)` : '';
  return builder.build('btrfs', `btrfs extent tree mapped through the chunk tree${unverified}`);
}
