// The btrfs superblock at 64 KiB: where the chunk and root trees start, node and sector sizes, the device, and the
// features in use. Whatever this reader cannot follow (several devices, zoned, extent tree v2, a log to replay) is
// refused here, before any tree is read.
import { ShadowError } from '../../../sdk/index.js';
import { BTRFS_CSUM_NAMES, btrfsChecksumMatches, storedChecksumHex } from './btrfs-checksum.js';
import { ascii, expectField, u16, u32, u64, u8 } from './le-fields.js';
import type { ByteReader } from './used-block-map.js';

export const BTRFS_SUPERBLOCK_OFFSET = 0x10000;
export const BTRFS_SUPERBLOCK_BYTES = 4096;
export const BTRFS_MAX_LEVEL = 8;
const SYS_CHUNK_ARRAY_OFFSET = 0x32b;
const SYS_CHUNK_ARRAY_MAX = 2048;
const DEV_ITEM_OFFSET = 0xc9;

const INCOMPAT_MIXED_GROUPS = 1 << 2;
const INCOMPAT_METADATA_UUID = 1 << 10;
const INCOMPAT_ZONED = 1 << 12;
const INCOMPAT_EXTENT_TREE_V2 = 1 << 13;
const INCOMPAT_RAID_STRIPE_TREE = 1 << 14;
/** Every incompat bit btrfs-progs 6.x defines (bits 0 to 14, and 16). */
const INCOMPAT_KNOWN = 0x17fff;
/** Flags above bit 32 other than SEEDING: a metadump image (no data) or a btrfstune run that was interrupted. */
const FLAGS_HIGH_SEEDING = 1;

export interface BtrfsSuperblock {
  readonly generation: number;
  readonly rootTree: number;
  readonly rootLevel: number;
  readonly chunkTree: number;
  readonly chunkLevel: number;
  readonly chunkGeneration: number;
  readonly bytesUsed: number;
  readonly sectorSize: number;
  readonly nodeSize: number;
  readonly csumType: number;
  /** The fsid every tree node carries: metadata_uuid when the METADATA_UUID feature is on, else fsid. */
  readonly metadataFsid: Uint8Array;
  readonly devid: number;
  readonly deviceBytes: number;
  readonly sysChunkArray: Uint8Array;
}

export function btrfsUnsupported(what: string): ShadowError {
  return new ShadowError('UNSUPPORTED', `Cannot read the btrfs used-block map: ${what}; copy every block instead`);
}

export function checkBtrfs(ok: boolean, field: string, value: number | string, expected: string): void {
  expectField(ok, 'btrfs', field, value, expected);
}

export function failBtrfs(field: string, value: number | string, expected: string): never {
  expectField(false, 'btrfs', field, value, expected);
  throw new Error(`unreachable: expectField passed a failed check of ${field}`);
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
const hex = (n: number) => `0x${n.toString(16)}`;

export function readBtrfsSuperblock(read: ByteReader, volumeSizeBytes: number): BtrfsSuperblock {
  const end = BTRFS_SUPERBLOCK_OFFSET + BTRFS_SUPERBLOCK_BYTES;
  checkBtrfs(volumeSizeBytes >= end, 'volume size', volumeSizeBytes, `should hold the superblock at ${BTRFS_SUPERBLOCK_OFFSET} (${end} bytes at least)`);
  const sb = read(BTRFS_SUPERBLOCK_OFFSET, BTRFS_SUPERBLOCK_BYTES);
  checkBtrfs(ascii(sb, 0x40, 8) === '_BHRfS_M', 'superblock magic', ascii(sb, 0x40, 8), "should be '_BHRfS_M'");
  const csumType = u16(sb, 0xc4);
  if (csumType >= BTRFS_CSUM_NAMES.length) throw btrfsUnsupported(`csum_type is '${csumType}', a checksum this reader does not know (0 to 3)`);
  const csumOk = btrfsChecksumMatches(csumType, sb);
  checkBtrfs(csumOk !== false, 'superblock checksum', storedChecksumHex(csumType, sb), `should be the ${BTRFS_CSUM_NAMES[csumType]} of bytes 32 to 4095`);
  checkBtrfs(u64(sb, 0x30, 'btrfs superblock bytenr') === BTRFS_SUPERBLOCK_OFFSET, 'superblock bytenr', u64(sb, 0x30, 'btrfs superblock bytenr'), `should be ${BTRFS_SUPERBLOCK_OFFSET}`);

  const flagsHigh = u32(sb, 0x3c);
  if ((flagsHigh & ~FLAGS_HIGH_SEEDING) !== 0) {
    throw btrfsUnsupported(`superblock flags high word is '${hex(flagsHigh)}', a metadump image or a btrfstune run that did not finish`);
  }
  const incompatLow = u32(sb, 0xbc);
  const incompatHigh = u32(sb, 0xc0);
  if (incompatHigh !== 0 || (incompatLow & ~INCOMPAT_KNOWN) !== 0) {
    throw btrfsUnsupported(`unknown incompatible features ${hex(incompatLow & ~INCOMPAT_KNOWN)} (high word ${hex(incompatHigh)})`);
  }
  if (incompatLow & INCOMPAT_ZONED) throw btrfsUnsupported('the volume is zoned (incompat ZONED), its allocation follows zone write pointers');
  if (incompatLow & INCOMPAT_EXTENT_TREE_V2) throw btrfsUnsupported('the volume uses extent tree v2 (incompat EXTENT_TREE_V2)');
  if (incompatLow & INCOMPAT_RAID_STRIPE_TREE) throw btrfsUnsupported('the volume uses the RAID stripe tree (incompat RAID_STRIPE_TREE)');

  const numDevices = u64(sb, 0x88, 'btrfs num_devices');
  if (numDevices !== 1) throw btrfsUnsupported(`num_devices is '${numDevices}'; only single-device btrfs is read, a multi-device filesystem needs all its devices imaged together`);
  const logRoot = u64(sb, 0x60, 'btrfs log_root');
  if (logRoot !== 0) throw btrfsUnsupported(`log_root is '${logRoot}', a tree log to replay (fsync'd data not yet in the extent tree); mount the filesystem once to replay it`);

  const sectorSize = u32(sb, 0x90);
  const nodeSize = u32(sb, 0x94);
  checkBtrfs(isPowerOfTwo(sectorSize) && sectorSize >= 4096 && sectorSize <= 65536, 'sectorsize', sectorSize, 'should be a power of two from 4096 to 65536');
  checkBtrfs(isPowerOfTwo(nodeSize) && nodeSize >= sectorSize && nodeSize <= 65536, 'nodesize', nodeSize, `should be a power of two from sectorsize ${sectorSize} to 65536`);
  if (incompatLow & INCOMPAT_MIXED_GROUPS) checkBtrfs(nodeSize === sectorSize, 'nodesize', nodeSize, `should equal sectorsize ${sectorSize} with mixed block groups`);

  const totalBytes = u64(sb, 0x70, 'btrfs total_bytes');
  const devid = u64(sb, DEV_ITEM_OFFSET, 'btrfs dev_item.devid');
  const deviceBytes = u64(sb, DEV_ITEM_OFFSET + 8, 'btrfs dev_item.total_bytes');
  checkBtrfs(deviceBytes <= volumeSizeBytes, 'dev_item.total_bytes', deviceBytes, `should fit the volume of ${volumeSizeBytes} bytes; the volume is truncated`);
  checkBtrfs(totalBytes === deviceBytes, 'total_bytes', totalBytes, `should equal dev_item.total_bytes ${deviceBytes} on a single device`);

  const sysChunkArrayBytes = u32(sb, 0xa0);
  checkBtrfs(sysChunkArrayBytes > 0 && sysChunkArrayBytes <= SYS_CHUNK_ARRAY_MAX, 'sys_chunk_array_size', sysChunkArrayBytes, `should be 1 to ${SYS_CHUNK_ARRAY_MAX}`);
  const rootTree = u64(sb, 0x50, 'btrfs root');
  const chunkTree = u64(sb, 0x58, 'btrfs chunk_root');
  const rootLevel = u8(sb, 0xc6);
  const chunkLevel = u8(sb, 0xc7);
  checkBtrfs(rootTree % sectorSize === 0 && rootTree > 0, 'root', rootTree, `should be a non-zero multiple of sectorsize ${sectorSize}`);
  checkBtrfs(chunkTree % sectorSize === 0 && chunkTree > 0, 'chunk_root', chunkTree, `should be a non-zero multiple of sectorsize ${sectorSize}`);
  checkBtrfs(rootLevel < BTRFS_MAX_LEVEL, 'root_level', rootLevel, `should be below ${BTRFS_MAX_LEVEL}`);
  checkBtrfs(chunkLevel < BTRFS_MAX_LEVEL, 'chunk_root_level', chunkLevel, `should be below ${BTRFS_MAX_LEVEL}`);
  const metadataUuidAt = incompatLow & INCOMPAT_METADATA_UUID ? 0x23b : 0x20;
  return {
    generation: u64(sb, 0x48, 'btrfs generation'),
    rootTree,
    rootLevel,
    chunkTree,
    chunkLevel,
    chunkGeneration: u64(sb, 0xa4, 'btrfs chunk_root_generation'),
    bytesUsed: u64(sb, 0x78, 'btrfs bytes_used'),
    sectorSize,
    nodeSize,
    csumType,
    metadataFsid: sb.slice(metadataUuidAt, metadataUuidAt + 16),
    devid,
    deviceBytes,
    sysChunkArray: sb.slice(SYS_CHUNK_ARRAY_OFFSET, SYS_CHUNK_ARRAY_OFFSET + sysChunkArrayBytes),
  };
}
