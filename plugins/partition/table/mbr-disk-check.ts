// Geometry checks of a read MBR disk: partitions inside the disk, logicals inside the extended partition, no overlaps.
import { ShadowError } from '../../../sdk/index.js';
import { extendedSlot, logicalPartitions, MBR_EXTENDED_TYPES, type MbrDisk } from './mbr-disk.js';
import { isUsedEntry } from './mbr-kind.js';
import type { DiskGeometry } from './layout.js';

const ADVICE = 'check it with `sfdisk --verify` and restore the partition table from a backup';

/** A TABLE_CORRUPT error for an MBR problem, phrased as the conventions ask. */
export function tableCorrupt(problem: string): ShadowError {
  return new ShadowError('TABLE_CORRUPT', `Cannot read the MBR partition table: ${problem}; ${ADVICE}`);
}

interface Span {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

function span(name: string, start: number, sectors: number): Span {
  return { name: `${name} (sectors ${start}–${start + sectors - 1})`, start, end: start + sectors - 1 };
}

/** Throws TABLE_CORRUPT for the first partition that leaves the disk or its extended partition, or overlaps another. */
export function checkMbrDisk(disk: MbrDisk, geometry: DiskGeometry): void {
  const primaries: Span[] = [];
  disk.mbr.entries.forEach((e, i) => {
    if (!isUsedEntry(e)) return;
    const s = span(`${MBR_EXTENDED_TYPES.has(e.type) ? 'extended ' : ''}partition ${i + 1}`, e.firstLba, e.sectors);
    if (e.firstLba === 0) throw tableCorrupt(`${s.name} starts at sector 0, which holds the MBR`);
    checkInsideDisk(s, geometry);
    primaries.push(s);
  });
  checkNoOverlap(primaries);
  const extended = extendedSlot(disk.mbr);
  if (!extended) return;
  const ext = span(`extended partition ${extended.index + 1}`, extended.entry.firstLba, extended.entry.sectors);
  const inner: Span[] = disk.ebrs.map((ebr) => ({ name: `the EBR at LBA ${ebr.lba}`, start: ebr.lba, end: ebr.lba }));
  for (const logical of logicalPartitions(disk)) {
    const s = span(`logical partition ${logical.number}`, logical.startLba, logical.sizeSectors);
    if (logical.entry.firstLba === 0) throw tableCorrupt(`${s.name} starts at its own EBR (relative start 0)`);
    checkInsideDisk(s, geometry);
    if (s.start < ext.start || s.end > ext.end) throw tableCorrupt(`${s.name} lies outside ${ext.name}`);
    inner.push(s);
  }
  checkNoOverlap(inner);
}

function checkInsideDisk(s: Span, geometry: DiskGeometry): void {
  if (s.end >= geometry.sectorCount) {
    throw tableCorrupt(`${s.name} ends at sector ${s.end} but the disk has ${geometry.sectorCount} sectors (the disk is truncated or the table points past its end)`);
  }
}

function checkNoOverlap(spans: readonly Span[]): void {
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
  let widest: Span | undefined;
  for (const s of sorted) {
    if (widest && s.start <= widest.end) throw tableCorrupt(`${widest.name} overlaps ${s.name}`);
    if (!widest || s.end > widest.end) widest = s;
  }
}
