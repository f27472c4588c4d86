// The byte-exact model of an MBR disk: the LBA 0 record and the extended partition's EBR chain, each with its raw sector.
import { isUsedEntry } from './mbr-kind.js';
import type { MbrEntry, MbrSector } from './mbr-sector.js';

/** One EBR of the chain. Entry 1 is the logical (relative to `lba`), entry 2 the link to the next EBR (relative to the extended start). */
export interface Ebr {
  /** Absolute LBA of this EBR sector. */
  readonly lba: number;
  readonly record: MbrSector;
  /** The whole sector as read (boot area, bytes past 512 of a 4096-byte sector); absent for EBRs we created. */
  readonly raw?: Uint8Array;
}

export interface MbrDisk {
  readonly sectorSize: number;
  /** The LBA 0 record: boot code, disk signature, reserved bytes and the four primary entries with raw CHS and status. */
  readonly mbr: MbrSector;
  /** The whole LBA 0 sector as read; absent for a disk we built. */
  readonly mbrRaw?: Uint8Array;
  /** The EBR chain in chain order; empty without an extended partition. An EBR whose entry 1 is empty holds no logical. */
  readonly ebrs: readonly Ebr[];
}

export interface LogicalPartition {
  /** Linux's number: 5 for the first logical in chain order. */
  readonly number: number;
  readonly ebr: Ebr;
  readonly entry: MbrEntry;
  readonly startLba: number;
  readonly sizeSectors: number;
}

export const MAX_PRIMARY = 4;

/** Extended partition types: DOS (0x05), Windows LBA (0x0f, parted's default) and Linux (0x85). */
export const MBR_EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);

/** How many EBRs we follow at most: Linux stops at 256 partitions per disk (libfdisk already at 60). */
export const MAX_EBRS = 256;

/** The slot index (0–3) and entry of the extended partition, if any. */
export function extendedSlot(mbr: MbrSector): { index: number; entry: MbrEntry } | undefined {
  const index = mbr.entries.findIndex((e) => isUsedEntry(e) && MBR_EXTENDED_TYPES.has(e.type));
  return index < 0 ? undefined : { index, entry: mbr.entries[index]! };
}

/** The logicals of the chain, numbered as Linux and sfdisk number them; EBRs without a logical take no number. */
export function logicalPartitions(disk: MbrDisk): LogicalPartition[] {
  const out: LogicalPartition[] = [];
  for (const ebr of disk.ebrs) {
    const entry = ebr.record.entries[0];
    if (!isUsedEntry(entry)) continue;
    out.push({ number: 5 + out.length, ebr, entry, startLba: ebr.lba + entry.firstLba, sizeSectors: entry.sectors });
  }
  return out;
}

export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

export function hex8(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}
