// The MBR in front of a GPT: recognise protective and hybrid MBRs, and build a fresh protective one.
//
// CHS policy for fresh protective MBRs: the same bytes as sfdisk (libfdisk) and parted write, so a table we create is
// byte-identical to theirs: status 0x00, first CHS 00 02 00 (cylinder 0, head 0, sector 2 = LBA 1), type 0xEE, last CHS
// ff ff ff (the "beyond CHS" marker), first LBA 1, size min(sectors − 1, 0xffffffff). Boot code and disk signature zero.
// sgdisk differs: it writes the last CHS from a 255-head/63-sector geometry on disks small enough to have one
// (e.g. 28 20 08 on a 64 MiB disk). Protective MBRs we read are kept as they are, so sgdisk's bytes also round-trip.
import { ShadowError } from '../../../sdk/index.js';
import type { DiskGeometry } from './layout.js';
import { BOOT_CODE_SIZE, EMPTY_ENTRY, hasMbrMagic, isEmptyEntry, type MbrEntry, type MbrSector, parseMbrSector } from './mbr-sector.js';

export const GPT_PROTECTIVE_TYPE = 0xee;

/** `missing`: LBA 0 has no MBR signature or no entries at all (readable, but repair writes a protective MBR). */
export type GptMbrKind = 'protective' | 'hybrid' | 'missing';

export function protectiveEntry(geometry: DiskGeometry): MbrEntry {
  return { status: 0, chsFirst: [0x00, 0x02, 0x00], type: GPT_PROTECTIVE_TYPE, chsLast: [0xff, 0xff, 0xff], firstLba: 1, sectors: Math.min(geometry.sectorCount - 1, 0xffffffff) };
}

/**
 * A protective MBR for `geometry`. With `base` (the MBR as read): its boot code, signature and reserved bytes are
 * kept; a hybrid MBR is kept whole (its other entries are the user's), a protective entry is resized.
 */
export function protectiveMbr(geometry: DiskGeometry, base?: MbrSector): MbrSector {
  if (base && classifyMbr(base) === 'hybrid') return base;
  return {
    bootCode: base?.bootCode ?? new Uint8Array(BOOT_CODE_SIZE),
    diskSignature: base?.diskSignature ?? 0,
    reserved: base?.reserved ?? 0,
    entries: [protectiveEntry(geometry), EMPTY_ENTRY, EMPTY_ENTRY, EMPTY_ENTRY],
  };
}

function classifyMbr(mbr: MbrSector): GptMbrKind | 'foreign' {
  const used = mbr.entries.filter((e) => !isEmptyEntry(e));
  if (used.length === 0) return 'missing';
  if (!used.some((e) => e.type === GPT_PROTECTIVE_TYPE)) return 'foreign';
  return used.length === 1 ? 'protective' : 'hybrid';
}

/**
 * Reads LBA 0 in front of a GPT. Throws TABLE_CORRUPT when it holds an MBR partition table without a 0xEE entry: then
 * the GPT behind it is stale, or the disk is MBR-partitioned, and reading it as GPT would hide the MBR partitions.
 */
export function readGptMbr(sector: Uint8Array): { mbr: MbrSector | undefined; kind: GptMbrKind } {
  if (!hasMbrMagic(sector)) return { mbr: undefined, kind: 'missing' };
  const mbr = parseMbrSector(sector);
  const kind = classifyMbr(mbr);
  if (kind === 'foreign') {
    const types = mbr.entries.filter((e) => !isEmptyEntry(e)).map((e) => `0x${e.type.toString(16).padStart(2, '0')}`);
    throw new ShadowError('TABLE_CORRUPT', `LBA 0 holds an MBR partition table (types ${types.join(', ')}) without a 0xee protective entry, so the GPT behind it is stale or the disk is MBR-partitioned; read the disk as MBR, or recreate the GPT`);
  }
  return { mbr, kind };
}
