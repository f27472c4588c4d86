// Writing a GptDisk back (protective MBR, primary header + entries, backup entries + header), and repairing a damaged copy.
import { ShadowError } from '../../../sdk/index.js';
import type { GptDisk } from './gpt-disk.js';
import { mirrorHeader } from './gpt-disk.js';
import { entryArrayCrc, serializeGptEntries } from './gpt-entry.js';
import { entryArraySectors, serializeGptHeader } from './gpt-header.js';
import { protectiveMbr } from './gpt-protective-mbr.js';
import type { DiskGeometry } from './layout.js';
import { serializeMbrSector } from './mbr-sector.js';
import type { SectorWrite } from './sector-io.js';

/**
 * The sector writes that put `disk` on a disk of `geometry`. An unchanged disk as read gives back the same bytes over
 * the whole table area: LBA 0 (boot code included), both headers (bytes past the header size included), both arrays.
 */
export function writeGptDisk(disk: GptDisk, geometry: DiskGeometry): SectorWrite[] {
  const { sectorSize, sectorCount } = geometry;
  if (sectorSize !== disk.geometry.sectorSize) {
    throw new ShadowError('SIZE_MISMATCH', `Cannot write a GPT made for ${disk.geometry.sectorSize}-byte sectors to a disk with ${sectorSize}-byte sectors; recreate the table for this disk`);
  }
  const { primary, backup } = disk;
  const array = serializeGptEntries(disk.entries, primary.entryCount, primary.entrySize, sectorSize, disk.entryArray);
  const entriesCrc = entryArrayCrc(array, primary.entryCount, primary.entrySize);
  const mbr = disk.mbr ?? protectiveMbr(geometry);
  const writes: SectorWrite[] = [
    { lba: 0, bytes: serializeMbrSector(mbr, disk.mbrRaw.length === sectorSize ? { base: disk.mbrRaw } : { sectorSize }) },
    { lba: primary.myLba, bytes: serializeGptHeader({ ...primary, entriesCrc }, sectorSize) },
    { lba: primary.entriesLba, bytes: array },
    { lba: backup.entriesLba, bytes: array },
    { lba: backup.myLba, bytes: serializeGptHeader({ ...backup, entriesCrc }, sectorSize) },
  ];
  for (const w of writes) {
    const end = w.lba + w.bytes.length / sectorSize - 1;
    if (end >= sectorCount) {
      throw new ShadowError('SIZE_MISMATCH', `Cannot write the GPT: sectors ${w.lba}–${end} lie past the end of the disk (${sectorCount} sectors); run part repair to move the backup GPT to the end of this disk`);
    }
  }
  return writes;
}

/**
 * `disk` with its damaged parts rebuilt from the good ones: a missing protective MBR written fresh, a damaged copy
 * rebuilt from the other, the backup moved to the last sector (the usable range shrunk to fit on a truncated disk).
 */
export function repairGpt(disk: GptDisk): GptDisk {
  const { sectorSize, sectorCount } = disk.geometry;
  const good = disk.damaged.includes('primary') ? disk.backup : disk.primary;
  const lastLba = sectorCount - 1;
  const entrySectors = entryArraySectors(good, sectorSize);
  const backupEntriesLba = lastLba - entrySectors;
  const lastUsableLba = Math.min(good.lastUsableLba, backupEntriesLba - 1);
  const lastEnd = Math.max(-1, ...disk.entries.map((e) => e.lastLba));
  if (lastEnd > lastUsableLba) {
    throw new ShadowError('SIZE_MISMATCH', `Cannot repair the GPT: partition data reaches sector ${lastEnd} but the backup GPT needs sectors ${backupEntriesLba}–${lastLba}; shrink or delete the last partition first`);
  }
  const base = { ...good, lastUsableLba };
  const primary = { ...mirrorHeader(base, 1, lastLba, 2), raw: disk.damaged.includes('primary') ? disk.backup.raw : disk.primary.raw };
  const backup = { ...mirrorHeader(base, lastLba, 1, backupEntriesLba), raw: disk.damaged.includes('backup') ? disk.primary.raw : disk.backup.raw };
  // A missing or wrongly sized protective MBR is written fresh (boot code kept); a hybrid one is the user's and stays.
  const mbr = disk.mbrKind === 'missing' || disk.damaged.includes('protective-mbr') ? protectiveMbr(disk.geometry, disk.mbr) : disk.mbr;
  return {
    ...disk,
    mbr,
    mbrKind: disk.mbrKind === 'missing' ? 'protective' : disk.mbrKind,
    mbrRaw: disk.mbrKind === 'missing' ? new Uint8Array(sectorSize) : disk.mbrRaw,
    primary: disk.damaged.includes('primary') || primary.alternateLba !== disk.primary.alternateLba || lastUsableLba !== good.lastUsableLba ? primary : disk.primary,
    backup: disk.damaged.includes('backup') || backup.myLba !== disk.backup.myLba || lastUsableLba !== good.lastUsableLba ? backup : disk.backup,
    damaged: [],
    warnings: [],
  };
}
