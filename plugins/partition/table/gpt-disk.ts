// A GPT disk as read: protective MBR, both headers and the entries, validated copy by copy; one damaged copy is survivable.
// The protective-MBR CHS policy for fresh tables is documented in gpt-protective-mbr.ts.
import { ShadowError } from '../../../sdk/index.js';
import { entryArrayCrc, findEntryProblem, type GptEntry, parseGptEntries } from './gpt-entry.js';
import { entryArraySectors, type GptHeader, hex32, parseGptHeader } from './gpt-header.js';
import { GPT_PROTECTIVE_TYPE, type GptMbrKind, readGptMbr } from './gpt-protective-mbr.js';
import type { DiskGeometry } from './layout.js';
import type { MbrSector } from './mbr-sector.js';
import type { SectorReader } from './sector-io.js';

/** The parts of a GPT disk that can be damaged independently; `part repair` rebuilds them. */
export type GptPart = 'protective-mbr' | 'primary' | 'backup';

export interface GptDisk {
  readonly geometry: DiskGeometry;
  /** LBA 0 as read (boot code, signature and the bytes past 512 of larger sectors survive writes). */
  readonly mbrRaw: Uint8Array;
  /** Undefined when LBA 0 has no MBR signature. */
  readonly mbr: MbrSector | undefined;
  readonly mbrKind: GptMbrKind;
  /** For a damaged copy: a header rebuilt from the good one, at the place the copy belongs. */
  readonly primary: GptHeader;
  readonly backup: GptHeader;
  /** Used slots, by slot. */
  readonly entries: readonly GptEntry[];
  /** The entry array sectors as read from the good copy. */
  readonly entryArray: Uint8Array;
  readonly damaged: readonly GptPart[];
  readonly warnings: readonly string[];
}

interface GptCopy {
  readonly header: GptHeader;
  readonly array: Uint8Array;
  readonly entries: GptEntry[];
}

export function readGptDisk(read: SectorReader, geometry: DiskGeometry): GptDisk {
  const { sectorSize, sectorCount } = geometry;
  if (sectorCount < 3) throw new ShadowError('TABLE_CORRUPT', `The disk has ${sectorCount} sectors, too few for a GPT (at least 3); it is not a GPT disk`);
  const warnings: string[] = [];
  const damaged: GptPart[] = [];
  const mbrRaw = read(0, 1);
  const { mbr, kind: mbrKind } = readGptMbr(mbrRaw);
  if (mbrKind === 'missing') {
    damaged.push('protective-mbr');
    warnings.push('LBA 0 holds no protective MBR (no 0x55aa signature or no 0xee entry), so MBR-only tools may see the disk as empty and overwrite it; run part repair to write one');
  }
  const lastLba = sectorCount - 1;
  const protective = mbr?.entries.find((e) => e.type === GPT_PROTECTIVE_TYPE);
  if (mbrKind === 'protective' && protective && protective.sectors !== Math.min(lastLba, 0xffffffff)) {
    damaged.push('protective-mbr');
    warnings.push(`The protective MBR covers ${protective.sectors} sectors but the disk has ${sectorCount} (expected ${Math.min(lastLba, 0xffffffff)}): the disk was resized; run part repair to fix it`);
  }
  const primary = attempt(() => readCopy(read, 1, 'primary GPT header at LBA 1', geometry));
  // A primary whose header checks out but whose entries do not still knows where its backup is.
  const backupLba = primary.copy ? primary.copy.header.alternateLba : (headerAlternate(read) ?? lastLba);
  const backup = attempt(() => readCopy(read, backupLba, `backup GPT header at LBA ${backupLba}`, geometry));

  if (!primary.copy && !backup.copy) {
    const problems = lowerFirst(primary.problem!) + (primary.problem === backup.problem ? '' : `; and ${lowerFirst(backup.problem!)}`);
    throw new ShadowError('TABLE_CORRUPT', `Both GPT copies are unusable: ${problems}; restore the table from a backup or recreate it`, { details: { primary: primary.problem, backup: backup.problem } });
  }
  let good: GptCopy;
  if (primary.copy && backup.copy) {
    good = primary.copy;
    const disagreement = compareCopies(primary.copy, backup.copy);
    if (disagreement) {
      damaged.push('backup');
      warnings.push(`The backup GPT disagrees with the primary (${disagreement}); reading the primary, run part repair to rewrite the backup`);
    } else if (backupLba !== lastLba) {
      warnings.push(`The backup GPT header is at LBA ${backupLba}, not at the last sector ${lastLba}: the disk has grown; run part repair to move it to the end`);
    }
  } else if (primary.copy) {
    good = primary.copy;
    damaged.push('backup');
    warnings.push(`${backup.problem}; reading the primary GPT, run part repair to rewrite the backup`);
  } else {
    good = backup.copy!;
    damaged.push('primary');
    warnings.push(`${primary.problem}; reading the backup GPT, run part repair to rewrite the primary`);
  }
  const entrySectors = entryArraySectors(good.header, sectorSize);
  const backupHeaderLba = Math.min(good.header === primary.copy?.header ? good.header.alternateLba : good.header.myLba, lastLba);
  return {
    geometry,
    mbrRaw,
    mbr,
    mbrKind,
    primary: primary.copy && !damaged.includes('primary') ? primary.copy.header : mirrorHeader(good.header, 1, backupHeaderLba, 2),
    backup: backup.copy && !damaged.includes('backup') ? backup.copy.header : mirrorHeader(good.header, backupHeaderLba, 1, backupHeaderLba - entrySectors),
    entries: good.entries,
    entryArray: good.array,
    damaged,
    warnings,
  };
}

/** Reads and checks one copy (header + entry array); throws TABLE_CORRUPT naming the copy and its problem. */
function readCopy(read: SectorReader, lba: number, what: string, geometry: DiskGeometry): GptCopy {
  const { sectorSize, sectorCount } = geometry;
  const corrupt = (problem: string) => new ShadowError('TABLE_CORRUPT', `The ${what} is damaged: ${problem}`);
  if (lba < 1 || lba >= sectorCount) {
    throw new ShadowError('TABLE_CORRUPT', `The ${what} lies past the end of the disk (${sectorCount} sectors): the disk is truncated or smaller than the one the table was made for`);
  }
  const header = parseGptHeader(read(lba, 1), what);
  if (header.myLba !== lba) throw corrupt(`it says it is at LBA ${header.myLba}`);
  const sectors = entryArraySectors(header, sectorSize);
  const arrayEnd = header.entriesLba + sectors - 1;
  if (header.entriesLba < 1 || arrayEnd >= sectorCount) {
    throw corrupt(`its entry array at LBA ${header.entriesLba}–${arrayEnd} lies outside the disk (${sectorCount} sectors)`);
  }
  if (lba >= header.entriesLba && lba <= arrayEnd) throw corrupt(`its entry array at LBA ${header.entriesLba}–${arrayEnd} covers the header itself`);
  if (arrayEnd >= header.firstUsableLba && header.entriesLba <= header.lastUsableLba) {
    throw corrupt(`its entry array at LBA ${header.entriesLba}–${arrayEnd} lies inside the usable range ${header.firstUsableLba}–${header.lastUsableLba}`);
  }
  if (header.firstUsableLba < 2) throw corrupt(`first usable LBA is ${header.firstUsableLba}, which overlaps the protective MBR or the header; expected at least 2`);
  if (lba >= header.firstUsableLba && lba <= header.lastUsableLba) throw corrupt(`it lies inside its own usable range ${header.firstUsableLba}–${header.lastUsableLba}`);
  const array = read(header.entriesLba, sectors);
  const crc = entryArrayCrc(array, header.entryCount, header.entrySize);
  if (crc !== header.entriesCrc) throw corrupt(`entry array CRC32 is ${hex32(header.entriesCrc)} in the header but the ${header.entryCount} entries give ${hex32(crc)}`);
  const entries = parseGptEntries(array, header.entryCount, header.entrySize);
  const problem = findEntryProblem(entries, header, sectorCount);
  if (problem) throw corrupt(problem);
  return { header, array, entries };
}

function compareCopies(primary: GptCopy, backup: GptCopy): string | undefined {
  const p = primary.header;
  const b = backup.header;
  const fields = ['diskGuid', 'firstUsableLba', 'lastUsableLba', 'entryCount', 'entrySize', 'entriesCrc'] as const;
  for (const field of fields) if (p[field] !== b[field]) return `${field} is ${String(p[field])} in the primary and ${String(b[field])} in the backup`;
  if (p.alternateLba !== b.myLba || b.alternateLba !== 1) return `the primary points at LBA ${p.alternateLba} and the backup at LBA ${b.alternateLba}`;
  return undefined;
}

/** The good header as the other copy: same disk fields, own location. */
export function mirrorHeader(good: GptHeader, myLba: number, alternateLba: number, entriesLba: number): GptHeader {
  return { ...good, myLba, alternateLba, entriesLba };
}

function headerAlternate(read: SectorReader): number | undefined {
  try {
    return parseGptHeader(read(1, 1), 'primary GPT header').alternateLba;
  } catch {
    return undefined;
  }
}

function attempt(fn: () => GptCopy): { copy?: GptCopy; problem?: string } {
  try {
    return { copy: fn() };
  } catch (error) {
    if (error instanceof ShadowError && error.code === 'TABLE_CORRUPT') return { problem: error.message };
    throw error;
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
