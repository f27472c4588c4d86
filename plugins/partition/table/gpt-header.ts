// The GPT header sector: parse and serialize byte-exactly, checking what the header alone can tell (signature, size, CRC, entry geometry).
import { ShadowError } from '../../../sdk/index.js';
import { crc32 } from './crc32.js';
import { guidFromBytes, writeGuid } from './guid.js';

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION_1_0 = 0x00010000;
export const GPT_HEADER_MIN_SIZE = 92;
export const GPT_ENTRY_MIN_SIZE = 128;
/** No tool writes more than a few dozen KiB of entries; a larger array means a damaged header, and reading it would cost memory. */
export const GPT_ENTRY_ARRAY_MAX_BYTES = 1024 * 1024;

export interface GptHeader {
  readonly revision: number;
  readonly headerSize: number;
  /** The CRC as stored; serialization recomputes it. */
  readonly headerCrc: number;
  /** Bytes 20–23, zero by the spec; kept as read. */
  readonly reserved: number;
  readonly myLba: number;
  readonly alternateLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly diskGuid: string;
  readonly entriesLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
  readonly entriesCrc: number;
  /** The whole sector as read (or zeros): bytes past `headerSize` survive serialization. */
  readonly raw: Uint8Array;
}

/** Parses a header sector; `what` names it in errors (`primary GPT header at LBA 1`). Throws TABLE_CORRUPT. */
export function parseGptHeader(sector: Uint8Array, what: string): GptHeader {
  const corrupt = (problem: string) => new ShadowError('TABLE_CORRUPT', `The ${what} is damaged: ${problem}`);
  if (sector.length < 512) throw corrupt(`the sector has ${sector.length} bytes, expected at least 512`);
  const view = new DataView(sector.buffer, sector.byteOffset, sector.length);
  const signature = new TextDecoder('latin1').decode(sector.subarray(0, 8));
  if (signature !== GPT_SIGNATURE) throw corrupt(`signature is '${printable(signature)}', expected '${GPT_SIGNATURE}'`);
  const headerSize = view.getUint32(12, true);
  if (headerSize < GPT_HEADER_MIN_SIZE || headerSize > sector.length) {
    throw corrupt(`header size is ${headerSize} bytes, expected ${GPT_HEADER_MIN_SIZE}–${sector.length} (the sector size)`);
  }
  const headerCrc = view.getUint32(16, true);
  const computed = headerCrcOf(sector, headerSize);
  if (computed !== headerCrc) throw corrupt(`header CRC32 is ${hex32(headerCrc)} but the header's ${headerSize} bytes give ${hex32(computed)}`);
  const lba = (offset: number, name: string) => {
    const value = view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${name} is ${value}, beyond any disk`);
    return Number(value);
  };
  const header: GptHeader = {
    revision: view.getUint32(8, true),
    headerSize,
    headerCrc,
    reserved: view.getUint32(20, true),
    myLba: lba(24, 'my LBA'),
    alternateLba: lba(32, 'alternate LBA'),
    firstUsableLba: lba(40, 'first usable LBA'),
    lastUsableLba: lba(48, 'last usable LBA'),
    diskGuid: guidFromBytes(sector, 56),
    entriesLba: lba(72, 'partition entries LBA'),
    entryCount: view.getUint32(80, true),
    entrySize: view.getUint32(84, true),
    entriesCrc: view.getUint32(88, true),
    raw: sector.slice(),
  };
  const { entrySize, entryCount } = header;
  if (entrySize < GPT_ENTRY_MIN_SIZE || entrySize % GPT_ENTRY_MIN_SIZE !== 0 || !isPowerOfTwo(entrySize / GPT_ENTRY_MIN_SIZE)) {
    throw corrupt(`partition entry size is ${entrySize} bytes, expected 128 × a power of two (128, 256, 512, …)`);
  }
  if (entryCount === 0) throw corrupt('the partition entry count is 0, expected at least 1');
  if (entryCount * entrySize > GPT_ENTRY_ARRAY_MAX_BYTES) {
    throw corrupt(`the partition entry array is ${entryCount} × ${entrySize} = ${entryCount * entrySize} bytes, more than the ${GPT_ENTRY_ARRAY_MAX_BYTES} bytes any real table uses`);
  }
  if (header.firstUsableLba > header.lastUsableLba) {
    throw corrupt(`first usable LBA ${header.firstUsableLba} is after last usable LBA ${header.lastUsableLba}`);
  }
  return header;
}

/** The header sector for `header`, written over a copy of `header.raw` (or zeros of `sectorSize`), with its CRC recomputed. */
export function serializeGptHeader(header: Omit<GptHeader, 'headerCrc' | 'raw'> & { raw?: Uint8Array }, sectorSize: number): Uint8Array {
  const out = header.raw && header.raw.length === sectorSize ? header.raw.slice() : new Uint8Array(sectorSize);
  if (header.headerSize < GPT_HEADER_MIN_SIZE || header.headerSize > sectorSize) {
    throw new RangeError(`GPT header size ${header.headerSize} is outside ${GPT_HEADER_MIN_SIZE}–${sectorSize}`);
  }
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  out.set(new TextEncoder().encode(GPT_SIGNATURE), 0);
  view.setUint32(8, header.revision, true);
  view.setUint32(12, header.headerSize, true);
  view.setUint32(16, 0, true);
  view.setUint32(20, header.reserved, true);
  view.setBigUint64(24, BigInt(header.myLba), true);
  view.setBigUint64(32, BigInt(header.alternateLba), true);
  view.setBigUint64(40, BigInt(header.firstUsableLba), true);
  view.setBigUint64(48, BigInt(header.lastUsableLba), true);
  writeGuid(out, 56, header.diskGuid);
  view.setBigUint64(72, BigInt(header.entriesLba), true);
  view.setUint32(80, header.entryCount, true);
  view.setUint32(84, header.entrySize, true);
  view.setUint32(88, header.entriesCrc, true);
  view.setUint32(16, headerCrcOf(out, header.headerSize), true);
  return out;
}

/** Sectors the entry array of `header` takes. */
export function entryArraySectors(header: Pick<GptHeader, 'entryCount' | 'entrySize'>, sectorSize: number): number {
  return Math.ceil((header.entryCount * header.entrySize) / sectorSize);
}

function headerCrcOf(sector: Uint8Array, headerSize: number): number {
  const bytes = sector.slice(0, headerSize);
  bytes.fill(0, 16, 20);
  return crc32(bytes);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
