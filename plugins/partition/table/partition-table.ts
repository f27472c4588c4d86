// One door to the codecs: read whichever table a disk has (MBR, GPT or none) into a Layout, and turn a target Layout
// into the sector writes that put it on the disk. Pure: sectors in, sector writes out.
import { ShadowError } from '../../../sdk/index.js';
import { readGptDisk, type GptDisk } from './gpt-disk.js';
import { repairGpt, writeGptDisk } from './gpt-disk-write.js';
import { GPT_SIGNATURE } from './gpt-header.js';
import { gptDiskToLayout, layoutToGptDisk } from './gpt-layout.js';
import type { DiskGeometry, Layout } from './layout.js';
import type { MbrDisk } from './mbr-disk.js';
import { readMbrDisk } from './mbr-disk-read.js';
import { writeMbrDisk } from './mbr-disk-write.js';
import { mbrKind } from './mbr-kind.js';
import { layoutToMbrDisk } from './mbr-layout-build.js';
import { mbrDiskToLayout } from './mbr-layout.js';
import type { SectorReader, SectorWrite } from './sector-io.js';

export interface SectorRange {
  readonly lba: number;
  readonly count: number;
}

export interface DiskTable {
  readonly kind: 'mbr' | 'gpt' | 'none';
  readonly layout: Layout | null;
  readonly warnings: readonly string[];
  /** GPT parts that are damaged and readable from the other copy (`part repair` rewrites them). */
  readonly damaged: readonly string[];
  /** The sectors that hold the table now: fingerprinted by plans and saved before any write. */
  readonly tableRanges: readonly SectorRange[];
  readonly mbr?: MbrDisk;
  readonly gpt?: GptDisk;
}

export function readDiskTable(read: SectorReader, geometry: DiskGeometry): DiskTable {
  const kind = mbrKind(read(0, 1));
  if (kind === 'mbr') {
    const mbr = readMbrDisk(read, geometry);
    return { kind: 'mbr', mbr, layout: mbrDiskToLayout(mbr, geometry), warnings: [], damaged: [], tableRanges: rangesOf(writeMbrDisk(mbr, geometry), geometry) };
  }
  if (kind === 'protective' || kind === 'hybrid' || hasGptSignature(read, geometry)) {
    const gpt = readGptDisk(read, geometry);
    return {
      kind: 'gpt', gpt, layout: gptDiskToLayout(gpt, geometry), warnings: gpt.warnings, damaged: gpt.damaged,
      tableRanges: gptRanges(gpt, geometry),
    };
  }
  return { kind: 'none', layout: null, warnings: [], damaged: [], tableRanges: blankRanges(geometry) };
}

/** The writes that turn the disk's current table into `target`; `fresh` (a new table was created) drops the old one's bytes. */
export function writesForLayout(current: DiskTable, target: Layout, geometry: DiskGeometry, fresh: boolean): SectorWrite[] {
  if (target.table === 'gpt') {
    const writes = writeGptDisk(layoutToGptDisk(target, fresh ? undefined : current.gpt), geometry);
    // From MBR to GPT: the old EBRs would linger as stray signatures inside the new partitions' space.
    return [...writes, ...zeroed(current.kind === 'mbr' ? current.tableRanges.filter((r) => r.lba !== 0) : [], geometry, writes)];
  }
  const writes = writeMbrDisk(layoutToMbrDisk(target, fresh ? undefined : current.mbr), geometry);
  // From GPT to MBR: both GPT headers and arrays go, or tools would still see a (now wrong) GPT.
  return [...writes, ...zeroed(current.kind === 'gpt' ? current.tableRanges.filter((r) => r.lba !== 0) : [], geometry, writes)];
}

/** Writes that rebuild the damaged GPT copy from the good one. */
export function repairWrites(current: DiskTable, geometry: DiskGeometry): SectorWrite[] {
  if (current.kind !== 'gpt' || !current.gpt) throw new ShadowError('INVALID_ARGUMENT', `Only GPT disks have two copies to repair from; this disk has ${current.kind === 'mbr' ? 'an MBR' : 'no partition table'}`);
  if (current.damaged.length === 0) return [];
  return writeGptDisk(repairGpt(current.gpt), geometry);
}

export function rangesOf(writes: readonly SectorWrite[], geometry: DiskGeometry): SectorRange[] {
  return writes.map((w) => ({ lba: w.lba, count: w.bytes.length / geometry.sectorSize }));
}

function gptRanges(gpt: GptDisk, geometry: DiskGeometry): SectorRange[] {
  try {
    return rangesOf(writeGptDisk(gpt, geometry), geometry);
  } catch {
    // A truncated disk: the backup lies past the end; fingerprint what exists.
    return blankRanges(geometry).concat({ lba: gpt.primary.entriesLba, count: Math.ceil((gpt.primary.entryCount * gpt.primary.entrySize) / geometry.sectorSize) });
  }
}

function blankRanges(geometry: DiskGeometry): SectorRange[] {
  return [{ lba: 0, count: 1 }, { lba: 1, count: 1 }, { lba: geometry.sectorCount - 1, count: 1 }];
}

function hasGptSignature(read: SectorReader, geometry: DiskGeometry): boolean {
  const signature = new TextEncoder().encode(GPT_SIGNATURE);
  const starts = (sector: Uint8Array) => signature.every((b, i) => sector[i] === b);
  return starts(read(1, 1)) || starts(read(geometry.sectorCount - 1, 1));
}

/** Zero sectors for `ranges`, except where `writes` already put something. */
function zeroed(ranges: readonly SectorRange[], geometry: DiskGeometry, writes: readonly SectorWrite[]): SectorWrite[] {
  const written = new Set<number>();
  for (const w of writes) for (let i = 0; i < w.bytes.length / geometry.sectorSize; i++) written.add(w.lba + i);
  const out: SectorWrite[] = [];
  for (const r of ranges) {
    for (let lba = r.lba; lba < r.lba + r.count; lba++) if (!written.has(lba)) out.push({ lba, bytes: new Uint8Array(geometry.sectorSize) });
  }
  return out;
}
