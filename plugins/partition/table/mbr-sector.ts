// The 512-byte MBR/EBR sector record: boot code, disk signature and four 16-byte entries; pure, byte-exact.
import { ShadowError } from '../../../sdk/index.js';

export const MBR_SIZE = 512;
export const BOOT_CODE_SIZE = 440;
const SIGNATURE_OFFSET = 440;
const RESERVED_OFFSET = 444;
const ENTRIES_OFFSET = 446;
const ENTRY_SIZE = 16;
const MAGIC_OFFSET = 510;

export interface MbrEntry {
  /** 0x80 active/bootable, 0x00 not; other values kept as read. */
  readonly status: number;
  /** The three raw CHS bytes of the first and last sector, kept for byte-exact round trips. */
  readonly chsFirst: readonly [number, number, number];
  readonly type: number;
  readonly chsLast: readonly [number, number, number];
  readonly firstLba: number;
  readonly sectors: number;
}

export interface MbrSector {
  /** Bytes 0–439. */
  readonly bootCode: Uint8Array;
  readonly diskSignature: number;
  /** Bytes 444–445, usually zero (copy-protect marker on some systems). */
  readonly reserved: number;
  readonly entries: readonly [MbrEntry, MbrEntry, MbrEntry, MbrEntry];
}

export const EMPTY_ENTRY: MbrEntry = Object.freeze({ status: 0, chsFirst: [0, 0, 0] as const, type: 0, chsLast: [0, 0, 0] as const, firstLba: 0, sectors: 0 });

export function isEmptyEntry(entry: MbrEntry): boolean {
  return entry.type === 0 && entry.firstLba === 0 && entry.sectors === 0;
}

/** True when the sector ends with the 0x55 0xAA signature. */
export function hasMbrMagic(sector: Uint8Array): boolean {
  return sector.length >= MBR_SIZE && sector[MAGIC_OFFSET] === 0x55 && sector[MAGIC_OFFSET + 1] === 0xaa;
}

/** Parses the first 512 bytes of `sector`; `what` names it in errors (`LBA 0`, `EBR at LBA 2048`). */
export function parseMbrSector(sector: Uint8Array, what = 'LBA 0'): MbrSector {
  if (sector.length < MBR_SIZE) {
    throw new ShadowError('TABLE_CORRUPT', `The ${what} sector is ${sector.length} bytes, expected at least ${MBR_SIZE}`);
  }
  if (!hasMbrMagic(sector)) {
    throw new ShadowError('TABLE_CORRUPT', `No MBR signature at ${what}: bytes 510–511 are 0x${hex(sector[MAGIC_OFFSET]!)} 0x${hex(sector[MAGIC_OFFSET + 1]!)}, expected 0x55 0xaa`);
  }
  const view = new DataView(sector.buffer, sector.byteOffset, MBR_SIZE);
  const entries = [0, 1, 2, 3].map((i) => parseEntry(view, ENTRIES_OFFSET + i * ENTRY_SIZE)) as unknown as MbrSector['entries'];
  return {
    bootCode: sector.slice(0, BOOT_CODE_SIZE),
    diskSignature: view.getUint32(SIGNATURE_OFFSET, true),
    reserved: view.getUint16(RESERVED_OFFSET, true),
    entries,
  };
}

function parseEntry(view: DataView, offset: number): MbrEntry {
  const byte = (i: number) => view.getUint8(offset + i);
  return {
    status: byte(0),
    chsFirst: [byte(1), byte(2), byte(3)],
    type: byte(4),
    chsLast: [byte(5), byte(6), byte(7)],
    firstLba: view.getUint32(offset + 8, true),
    sectors: view.getUint32(offset + 12, true),
  };
}

/**
 * Writes the record into a copy of `base` (the sector as it was, so bytes past 512 in a 4096-byte sector survive),
 * or into a zeroed sector of `sectorSize` bytes.
 */
export function serializeMbrSector(mbr: MbrSector, options: { base?: Uint8Array; sectorSize?: number } = {}): Uint8Array {
  const out = options.base ? options.base.slice() : new Uint8Array(options.sectorSize ?? MBR_SIZE);
  if (out.length < MBR_SIZE) throw new RangeError(`An MBR sector needs at least ${MBR_SIZE} bytes, got ${out.length}`);
  if (mbr.bootCode.length !== BOOT_CODE_SIZE) throw new RangeError(`Boot code must be ${BOOT_CODE_SIZE} bytes, got ${mbr.bootCode.length}`);
  const view = new DataView(out.buffer, out.byteOffset, MBR_SIZE);
  out.set(mbr.bootCode, 0);
  view.setUint32(SIGNATURE_OFFSET, mbr.diskSignature >>> 0, true);
  view.setUint16(RESERVED_OFFSET, mbr.reserved, true);
  mbr.entries.forEach((entry, i) => writeEntry(view, ENTRIES_OFFSET + i * ENTRY_SIZE, entry));
  out[MAGIC_OFFSET] = 0x55;
  out[MAGIC_OFFSET + 1] = 0xaa;
  return out;
}

function writeEntry(view: DataView, offset: number, entry: MbrEntry): void {
  for (const [name, value] of [['firstLba', entry.firstLba], ['sectors', entry.sectors]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`MBR entry ${name} ${value} does not fit in 32 bits`);
  }
  view.setUint8(offset, entry.status);
  entry.chsFirst.forEach((b, i) => view.setUint8(offset + 1 + i, b));
  view.setUint8(offset + 4, entry.type);
  entry.chsLast.forEach((b, i) => view.setUint8(offset + 5 + i, b));
  view.setUint32(offset + 8, entry.firstLba, true);
  view.setUint32(offset + 12, entry.sectors, true);
}

/**
 * CHS bytes for an LBA under a heads/sectors-per-track geometry; LBAs past cylinder 1023 get the customary
 * maximum (1023/heads-1/sectors), as fdisk writes them.
 */
export function lbaToChs(lba: number, heads = 255, sectorsPerTrack = 63): [number, number, number] {
  let cylinder = Math.floor(lba / (heads * sectorsPerTrack));
  let head = Math.floor(lba / sectorsPerTrack) % heads;
  let sector = (lba % sectorsPerTrack) + 1;
  if (cylinder > 1023) {
    cylinder = 1023;
    head = heads - 1;
    sector = sectorsPerTrack;
  }
  return [head, ((cylinder >> 2) & 0xc0) | sector, cylinder & 0xff];
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
