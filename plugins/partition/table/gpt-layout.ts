// GptDisk ↔ the table-neutral Layout: partitions numbered by entry slot + 1, fresh headers for a changed layout.
import { ShadowError } from '../../../sdk/index.js';
import type { GptDisk } from './gpt-disk.js';
import { findEntryProblem, type GptEntry } from './gpt-entry.js';
import { entryArraySectors, GPT_HEADER_MIN_SIZE, GPT_REVISION_1_0, type GptHeader } from './gpt-header.js';
import { protectiveMbr } from './gpt-protective-mbr.js';
import { type DiskGeometry, freezeLayout, type Layout } from './layout.js';

export const DEFAULT_ENTRY_COUNT = 128;
export const DEFAULT_ENTRY_SIZE = 128;

export function gptDiskToLayout(disk: GptDisk, geometry: DiskGeometry = disk.geometry): Layout {
  const header = disk.damaged.includes('primary') ? disk.backup : disk.primary;
  return freezeLayout({
    table: 'gpt',
    geometry: { ...geometry },
    diskId: header.diskGuid,
    firstUsableLba: header.firstUsableLba,
    lastUsableLba: header.lastUsableLba,
    partitionSlots: header.entryCount,
    partitions: disk.entries.map((e) => ({
      number: e.slot + 1,
      startLba: e.firstLba,
      sizeSectors: e.lastLba - e.firstLba + 1,
      gpt: { typeGuid: e.typeGuid, uuid: e.uuid, name: e.name, attributes: e.attributes },
    })),
  });
}

/**
 * A GptDisk for `layout` with fresh headers (revision 1.0, 92 bytes): primary at LBA 1 with entries at LBA 2, backup at
 * the last sector with its entries just before it. The entry array keeps `base`'s size (else 128 × 128 bytes) unless
 * the layout names a slot count; entries keep `base`'s bytes for their slot (name tails, bytes past 128). The
 * protective MBR follows the policy in gpt-protective-mbr.ts, keeping `base`'s boot code and a hybrid MBR.
 */
export function layoutToGptDisk(layout: Layout, base?: GptDisk): GptDisk {
  if (layout.table !== 'gpt') throw new ShadowError('INVALID_ARGUMENT', `Cannot write a '${layout.table}' layout as GPT; convert it to GPT first`);
  const geometry = layout.geometry;
  const { sectorSize, sectorCount } = geometry;
  const baseHeader = base && (base.damaged.includes('primary') ? base.backup : base.primary);
  const entryCount = layout.partitionSlots ?? baseHeader?.entryCount ?? DEFAULT_ENTRY_COUNT;
  const entrySize = baseHeader?.entrySize ?? DEFAULT_ENTRY_SIZE;
  const entrySectors = entryArraySectors({ entryCount, entrySize }, sectorSize);
  const lastLba = sectorCount - 1;
  const backupEntriesLba = lastLba - entrySectors;
  const { firstUsableLba, lastUsableLba } = layout;
  if (firstUsableLba < 2 + entrySectors || lastUsableLba >= backupEntriesLba || firstUsableLba > lastUsableLba) {
    throw new ShadowError('SIZE_MISMATCH', `The usable range ${firstUsableLba}–${lastUsableLba} does not fit between the primary entry array (ends at LBA ${1 + entrySectors}) and the backup entry array (starts at LBA ${backupEntriesLba}) of this ${sectorCount}-sector disk; use ${2 + entrySectors}–${backupEntriesLba - 1} or less`);
  }
  const baseEntries = new Map((base?.entries ?? []).map((e) => [e.slot, e]));
  const entries: GptEntry[] = layout.partitions.map((p) => {
    if (!p.gpt) throw new ShadowError('INVALID_ARGUMENT', `Partition ${p.number} has no GPT fields (type GUID, UUID, name, attributes); the layout is not a GPT layout`);
    if (p.number < 1 || p.number > entryCount) throw new ShadowError('INVALID_ARGUMENT', `Partition number ${p.number} does not fit the ${entryCount} GPT entry slots; use 1–${entryCount}`);
    const raw = baseEntries.get(p.number - 1)?.raw;
    return { slot: p.number - 1, firstLba: p.startLba, lastLba: p.startLba + p.sizeSectors - 1, ...p.gpt, ...(raw && raw.length === entrySize ? { raw } : {}) };
  });
  const problem = findEntryProblem(entries, layout, sectorCount);
  if (problem) throw new ShadowError('SIZE_MISMATCH', `Cannot write the GPT: ${problem}; move or resize the partition`);
  const header: GptHeader = {
    revision: GPT_REVISION_1_0,
    headerSize: GPT_HEADER_MIN_SIZE,
    headerCrc: 0,
    reserved: 0,
    myLba: 1,
    alternateLba: lastLba,
    firstUsableLba,
    lastUsableLba,
    diskGuid: layout.diskId.toLowerCase(),
    entriesLba: 2,
    entryCount,
    entrySize,
    entriesCrc: 0,
    raw: new Uint8Array(sectorSize),
  };
  const mbr = protectiveMbr(geometry, base?.mbr);
  const sameArray = baseHeader && baseHeader.entryCount === entryCount && baseHeader.entrySize === entrySize && base.geometry.sectorSize === sectorSize;
  return {
    geometry: { ...geometry },
    mbrRaw: base && base.mbrRaw.length === sectorSize ? base.mbrRaw : new Uint8Array(sectorSize),
    mbr,
    mbrKind: base?.mbrKind === 'hybrid' ? 'hybrid' : 'protective',
    primary: header,
    backup: { ...header, myLba: lastLba, alternateLba: 1, entriesLba: backupEntriesLba },
    entries,
    entryArray: sameArray ? base.entryArray : new Uint8Array(entrySectors * sectorSize),
    damaged: [],
    warnings: [],
  };
}
