// GPT partition entries: parse an entry array into its used slots, serialize it back byte-exactly, and check the entries against the disk.
import { crc32 } from './crc32.js';
import { guidFromBytes, writeGuid, ZERO_GUID } from './guid.js';
import { decodeGptName, encodeGptName, NAME_FIELD_BYTES } from './utf16.js';

const NAME_OFFSET = 56;

export interface GptEntry {
  /** 0-based slot in the entry array; the partition number is slot + 1. */
  readonly slot: number;
  readonly typeGuid: string;
  readonly uuid: string;
  readonly firstLba: number;
  readonly lastLba: number;
  /** The raw 64-bit attribute field: bit 0 required, 1 no block-IO, 2 legacy BIOS bootable, 48–63 type-specific. */
  readonly attributes: bigint;
  readonly name: string;
  /** The entry's bytes as read, so name bytes after the NUL and bytes past 128 survive a round trip. */
  readonly raw?: Uint8Array;
}

/** The used slots (type GUID not zero) of an entry array; `array` holds at least `entryCount × entrySize` bytes. */
export function parseGptEntries(array: Uint8Array, entryCount: number, entrySize: number): GptEntry[] {
  const entries: GptEntry[] = [];
  for (let slot = 0; slot < entryCount; slot++) {
    const bytes = array.subarray(slot * entrySize, (slot + 1) * entrySize);
    const typeGuid = guidFromBytes(bytes, 0);
    if (typeGuid === ZERO_GUID) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    entries.push({
      slot,
      typeGuid,
      uuid: guidFromBytes(bytes, 16),
      // Values past 2^53 cannot be a real sector; clamp so validation names them as past the end.
      firstLba: toSafe(view.getBigUint64(32, true)),
      lastLba: toSafe(view.getBigUint64(40, true)),
      attributes: view.getBigUint64(48, true),
      name: decodeGptName(bytes.subarray(NAME_OFFSET, NAME_OFFSET + NAME_FIELD_BYTES)),
      raw: bytes.slice(),
    });
  }
  return entries;
}

/**
 * The entry array as whole sectors. Starts from `base` (the sectors as read) when it has the right length, so unused
 * slots and the tail of the last sector stay as they were; slots used in `base` but absent from `entries` are zeroed.
 */
export function serializeGptEntries(entries: readonly GptEntry[], entryCount: number, entrySize: number, sectorSize: number, base?: Uint8Array): Uint8Array {
  const length = Math.ceil((entryCount * entrySize) / sectorSize) * sectorSize;
  const out = base && base.length === length ? base.slice() : new Uint8Array(length);
  const bySlot = new Map(entries.map((e) => [e.slot, e]));
  for (let slot = 0; slot < entryCount; slot++) {
    const offset = slot * entrySize;
    const entry = bySlot.get(slot);
    if (!entry) {
      if (guidFromBytes(out, offset) !== ZERO_GUID) out.fill(0, offset, offset + entrySize);
      continue;
    }
    const bytes = entry.raw && entry.raw.length === entrySize ? entry.raw.slice() : new Uint8Array(entrySize);
    const view = new DataView(bytes.buffer);
    writeGuid(bytes, 0, entry.typeGuid);
    writeGuid(bytes, 16, entry.uuid);
    view.setBigUint64(32, BigInt(entry.firstLba), true);
    view.setBigUint64(40, BigInt(entry.lastLba), true);
    view.setBigUint64(48, BigInt.asUintN(64, entry.attributes), true);
    bytes.set(encodeGptName(entry.name, entry.raw?.subarray(NAME_OFFSET, NAME_OFFSET + NAME_FIELD_BYTES)), NAME_OFFSET);
    out.set(bytes, offset);
  }
  return out;
}

/** CRC32 of the entry array proper (`entryCount × entrySize` bytes), as the header stores it. */
export function entryArrayCrc(array: Uint8Array, entryCount: number, entrySize: number): number {
  return crc32(array.subarray(0, entryCount * entrySize));
}

/**
 * The first problem with the entries, or undefined: a partition that ends before it starts, ends past the disk,
 * leaves the usable range, or overlaps another. Problems read as sentences without the subject.
 */
export function findEntryProblem(entries: readonly GptEntry[], range: { firstUsableLba: number; lastUsableLba: number }, sectorCount: number): string | undefined {
  for (const e of entries) {
    const n = e.slot + 1;
    if (e.firstLba > e.lastLba) return `partition ${n} ends at sector ${e.lastLba}, before its start sector ${e.firstLba}`;
    if (e.lastLba >= sectorCount) return `partition ${n} ends at sector ${e.lastLba} but the disk has ${sectorCount} sectors (last is ${sectorCount - 1})`;
    if (e.firstLba < range.firstUsableLba || e.lastLba > range.lastUsableLba) {
      return `partition ${n} spans sectors ${e.firstLba}–${e.lastLba}, outside the usable range ${range.firstUsableLba}–${range.lastUsableLba}`;
    }
  }
  const sorted = [...entries].sort((a, b) => a.firstLba - b.firstLba || a.slot - b.slot);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    if (current.firstLba <= previous.lastLba) {
      return `partition ${current.slot + 1} (sectors ${current.firstLba}–${current.lastLba}) overlaps partition ${previous.slot + 1} (sectors ${previous.firstLba}–${previous.lastLba})`;
    }
  }
  return undefined;
}

function toSafe(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}
