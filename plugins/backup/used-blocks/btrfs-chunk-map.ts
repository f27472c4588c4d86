// btrfs logical → physical addresses: each chunk maps a logical range onto stripes of the device. The superblock's
// sys_chunk_array holds the SYSTEM chunks (enough to read the chunk tree), the chunk tree holds them all. SINGLE has
// one stripe, DUP two full copies; striped and multi-device profiles are refused.
import { BTRFS_SUPERBLOCK_OFFSET, btrfsUnsupported, checkBtrfs, type BtrfsSuperblock } from './btrfs-superblock.js';
import { u16, u32, u64, u8 } from './le-fields.js';

export const BTRFS_CHUNK_ITEM_KEY = 228;
const KEY_BYTES = 17;
const CHUNK_HEADER_BYTES = 48;
const STRIPE_BYTES = 32;
const TYPE_MASK = 0x7; // DATA | SYSTEM | METADATA
const PROFILE_DUP = 1 << 5;
const PROFILE_NAMES: Record<number, string> = { [1 << 3]: 'RAID0', [1 << 4]: 'RAID1', [1 << 6]: 'RAID10', [1 << 7]: 'RAID5', [1 << 8]: 'RAID6', [1 << 9]: 'RAID1C3', [1 << 10]: 'RAID1C4' };
const PROFILE_MASK = 0x7f8;

export interface BtrfsChunk {
  readonly logical: number;
  readonly length: number;
  /** Physical byte offset of each copy's stripe: one for SINGLE, two for DUP. */
  readonly stripeOffsets: readonly number[];
}

export class BtrfsChunkMap {
  /** Sorted by logical address, never overlapping. */
  private readonly chunks: BtrfsChunk[] = [];

  constructor(private readonly sb: BtrfsSuperblock) {}

  /** The bootstrap map: the SYSTEM chunks the superblock carries, each a disk key followed by a chunk item. */
  static fromSysChunkArray(sb: BtrfsSuperblock): BtrfsChunkMap {
    const map = new BtrfsChunkMap(sb);
    const array = sb.sysChunkArray;
    for (let at = 0; at < array.length; ) {
      checkBtrfs(at + KEY_BYTES + CHUNK_HEADER_BYTES <= array.length, 'sys_chunk_array entry at byte', at, `should fit the array's ${array.length} bytes`);
      checkBtrfs(u8(array, at + 8) === BTRFS_CHUNK_ITEM_KEY, `sys_chunk_array entry at byte ${at} key type`, u8(array, at + 8), `should be CHUNK_ITEM (${BTRFS_CHUNK_ITEM_KEY})`);
      const logical = u64(array, at + 9, 'btrfs sys_chunk_array key offset');
      const itemBytes = CHUNK_HEADER_BYTES + STRIPE_BYTES * u16(array, at + KEY_BYTES + 44);
      checkBtrfs(at + KEY_BYTES + itemBytes <= array.length, 'sys_chunk_array entry at byte', at, `should fit the array's ${array.length} bytes with its stripes`);
      map.addChunkItem(array.subarray(at + KEY_BYTES, at + KEY_BYTES + itemBytes), logical);
      at += KEY_BYTES + itemBytes;
    }
    return map;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  has(chunk: BtrfsChunk): boolean {
    const found = this.chunks[this.indexAtOrBefore(chunk.logical)];
    return found !== undefined && found.logical === chunk.logical && found.length === chunk.length && found.stripeOffsets.join() === chunk.stripeOffsets.join();
  }

  all(): readonly BtrfsChunk[] {
    return this.chunks;
  }

  /** Parses a CHUNK_ITEM keyed at `logical` and adds it; throws naming the field when it is damaged or unsupported. */
  addChunkItem(item: Uint8Array, logical: number): BtrfsChunk {
    const { sectorSize, devid, deviceBytes } = this.sb;
    const what = `chunk at logical ${logical}`;
    checkBtrfs(item.length >= CHUNK_HEADER_BYTES, `${what} item size`, item.length, `should be at least ${CHUNK_HEADER_BYTES}`);
    const length = u64(item, 0, `btrfs ${what} length`);
    const typeLow = u32(item, 24);
    const numStripes = u16(item, 44);
    checkBtrfs(logical % sectorSize === 0, `${what} key offset`, logical, `should be a multiple of sectorsize ${sectorSize}`);
    checkBtrfs(length > 0 && length % sectorSize === 0, `${what} length`, length, `should be a non-zero multiple of sectorsize ${sectorSize}`);
    checkBtrfs((typeLow & TYPE_MASK) !== 0, `${what} type`, typeLow, 'should name DATA, SYSTEM or METADATA');
    checkBtrfs(item.length >= CHUNK_HEADER_BYTES + STRIPE_BYTES * numStripes, `${what} num_stripes`, numStripes, `should fit its item of ${item.length} bytes`);
    if ((typeLow & ~(TYPE_MASK | PROFILE_MASK)) !== 0 || u32(item, 28) !== 0) {
      throw btrfsUnsupported(`${what} has type bits 0x${u32(item, 28).toString(16)}${u32(item, 24).toString(16).padStart(8, '0')} this reader does not know`);
    }
    const profile = typeLow & PROFILE_MASK;
    if (profile !== 0 && profile !== PROFILE_DUP) {
      throw btrfsUnsupported(`${what} has profile ${PROFILE_NAMES[profile] ?? `0x${profile.toString(16)}`}; only SINGLE and DUP are read`);
    }
    const copies = profile === PROFILE_DUP ? 2 : 1;
    checkBtrfs(numStripes === copies, `${what} num_stripes`, numStripes, `should be ${copies} for ${copies === 2 ? 'DUP' : 'SINGLE'}`);
    const stripeOffsets: number[] = [];
    for (let s = 0; s < numStripes; s++) {
      const at = CHUNK_HEADER_BYTES + s * STRIPE_BYTES;
      const stripeDevid = u64(item, at, `btrfs ${what} stripe ${s} devid`);
      const offset = u64(item, at + 8, `btrfs ${what} stripe ${s} offset`);
      checkBtrfs(stripeDevid === devid, `${what} stripe ${s} devid`, stripeDevid, `should be the device's devid ${devid}`);
      checkBtrfs(offset % sectorSize === 0 && offset >= BTRFS_SUPERBLOCK_OFFSET && offset + length <= deviceBytes, `${what} stripe ${s} offset`, offset, `should be sector-aligned and hold ${length} bytes within the device's ${deviceBytes}`);
      stripeOffsets.push(offset);
    }
    const chunk: BtrfsChunk = { logical, length, stripeOffsets };
    const index = this.indexAtOrBefore(logical) + 1;
    const before = this.chunks[index - 1];
    const after = this.chunks[index];
    checkBtrfs(!before || before.logical + before.length <= logical, `${what} key offset`, logical, `should not overlap the chunk at logical ${before?.logical} of ${before?.length} bytes`);
    checkBtrfs(!after || logical + length <= after.logical, `${what} length`, length, `should end before the chunk at logical ${after?.logical}`);
    this.chunks.splice(index, 0, chunk);
    return chunk;
  }

  /** The physical offset of each copy of logical bytes [logical, logical + length), which must lie in one chunk. */
  physical(logical: number, length: number, what: string): number[] {
    const chunk = this.chunks[this.indexAtOrBefore(logical)];
    const inside = chunk !== undefined && logical >= chunk.logical && logical + length <= chunk.logical + chunk.length;
    checkBtrfs(inside, `${what} at logical`, logical, `should lie with its ${length} bytes inside one chunk the chunk tree maps`);
    return chunk!.stripeOffsets.map((offset) => offset + (logical - chunk!.logical));
  }

  /** Index of the last chunk starting at or before `logical`, -1 if none. */
  private indexAtOrBefore(logical: number): number {
    let low = 0;
    let high = this.chunks.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.chunks[mid]!.logical <= logical) low = mid + 1;
      else high = mid - 1;
    }
    return high;
  }
}
