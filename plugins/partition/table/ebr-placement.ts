// Where a new EBR goes: libfdisk's convention, so that tables we build match what sfdisk writes for the same layout.
//
// libfdisk puts the first EBR at the start of the extended partition and every later EBR `first_lba` sectors before
// its logical. `first_lba` is the alignment grain (1 MiB: 2048 sectors of 512 bytes, 256 of 4096), but sfdisk drops
// it to 1 for the rest of a script as soon as a partition asks for a start below its range: a primary before 1 MiB or
// a logical less than 1 MiB after the extended start. As `sfdisk -d` lists primaries first, then logicals in order,
// that is a property of the layout, so we apply the same rule (`compactEbrs`) and match sfdisk byte for byte. When the
// grain would put the EBR inside the previous logical (libfdisk then writes it there, corrupting that logical), we
// move it to the first sector after the previous logical instead. parted uses another convention (EBRs aligned down
// to its own geometry, at least one sector before the logical); we read both and keep existing EBRs where they are.
import { ShadowError } from '../../../sdk/index.js';

export const ALIGNMENT_BYTES = 1024 * 1024;

/** libfdisk's grain in sectors for a sector size. */
export function alignmentSectors(sectorSize: number): number {
  return Math.max(1, ALIGNMENT_BYTES / sectorSize);
}

export interface EbrPlacement {
  readonly extendedStart: number;
  readonly sectorSize: number;
  /** sfdisk's `first_lba` of 1: later EBRs go right before their logical. */
  readonly compact: boolean;
}

/**
 * Whether sfdisk would have dropped `first_lba` to 1 for this layout: a primary or extended partition starting before
 * one grain, or a first logical less than one grain after the extended start.
 */
export function compactEbrs(sectorSize: number, primaryStarts: readonly number[], extendedStart: number, firstLogicalStart: number | undefined): boolean {
  const grain = alignmentSectors(sectorSize);
  return primaryStarts.some((s) => s < grain) || (firstLogicalStart !== undefined && firstLogicalStart < extendedStart + grain);
}

/**
 * The EBR LBA for the `index`-th logical (chain order) starting at `startLba`, after a previous logical (or EBR)
 * ending at `previousEnd` (ignored for the first).
 */
export function placeEbr(placement: EbrPlacement, index: number, startLba: number, previousEnd: number): number {
  const { extendedStart } = placement;
  if (index === 0) {
    if (startLba <= extendedStart) throw noRoom(startLba, extendedStart);
    return extendedStart;
  }
  let lba = startLba - (placement.compact ? 1 : alignmentSectors(placement.sectorSize));
  if (lba <= previousEnd) lba = previousEnd + 1;
  if (lba === extendedStart) lba++;
  if (lba >= startLba) throw noRoom(startLba, previousEnd + 1);
  return lba;
}

/** True when an EBR kept from an older table may stay at `lba` for a logical at `startLba`. */
export function canKeepEbr(lba: number, index: number, startLba: number, previousEnd: number, extendedStart: number): boolean {
  return index === 0 ? lba === extendedStart : lba > previousEnd && lba < startLba && lba > extendedStart;
}

function noRoom(startLba: number, firstFree: number): ShadowError {
  return new ShadowError('INVALID_ARGUMENT', `Logical partition at sector ${startLba} leaves no sector for its EBR (first free sector ${firstFree}); start it at least one sector later`);
}
