// Reads an MBR disk: the LBA 0 record and the EBR chain, checked for loops, stray links and impossible geometry.
import { ShadowError } from '../../../sdk/index.js';
import { checkMbrDisk, tableCorrupt } from './mbr-disk-check.js';
import { extendedSlot, hex8, MAX_EBRS, MBR_EXTENDED_TYPES, type Ebr, type MbrDisk } from './mbr-disk.js';
import { isUsedEntry, PROTECTIVE_TYPE } from './mbr-kind.js';
import { parseMbrSector } from './mbr-sector.js';
import type { DiskGeometry } from './layout.js';
import type { SectorReader } from './sector-io.js';

/** Reads and checks the MBR and every EBR; throws TABLE_CORRUPT naming the first problem found. Never writes. */
export function readMbrDisk(read: SectorReader, geometry: DiskGeometry): MbrDisk {
  if (geometry.sectorCount < 1) throw new ShadowError('SIZE_MISMATCH', `Cannot read an MBR from a disk of ${geometry.sectorCount} sectors; expected at least 1`);
  const mbrRaw = read(0, 1);
  const mbr = parseMbrSector(mbrRaw, 'LBA 0');
  mbr.entries.forEach((e, i) => {
    if (e.type === PROTECTIVE_TYPE && isUsedEntry(e)) {
      throw new ShadowError('INVALID_ARGUMENT', `LBA 0 is a GPT protective MBR (entry ${i + 1} has type 0xee); read the disk as GPT`);
    }
    if (MBR_EXTENDED_TYPES.has(e.type) && e.sectors === 0) {
      throw tableCorrupt(`partition ${i + 1} is an extended partition (type ${hex8(e.type)}) of size 0`);
    }
  });
  const extendedCount = mbr.entries.filter((e) => isUsedEntry(e) && MBR_EXTENDED_TYPES.has(e.type)).length;
  if (extendedCount > 1) throw tableCorrupt(`LBA 0 has ${extendedCount} extended partitions; MBR allows one`);
  const disk: MbrDisk = { sectorSize: geometry.sectorSize, mbr, mbrRaw, ebrs: readEbrChain(read, mbr, geometry) };
  checkMbrDisk(disk, geometry);
  return disk;
}

function readEbrChain(read: SectorReader, mbr: MbrDisk['mbr'], geometry: DiskGeometry): Ebr[] {
  const extended = extendedSlot(mbr);
  if (!extended) return [];
  const extStart = extended.entry.firstLba;
  const extEnd = extStart + extended.entry.sectors - 1;
  const extName = `extended partition ${extended.index + 1} (sectors ${extStart}–${extEnd})`;
  if (extEnd >= geometry.sectorCount) {
    throw tableCorrupt(`${extName} ends at sector ${extEnd} but the disk has ${geometry.sectorCount} sectors`);
  }
  const ebrs: Ebr[] = [];
  const visited = new Set<number>();
  let lba = extStart;
  let from = 'LBA 0';
  for (;;) {
    if (visited.has(lba)) throw tableCorrupt(`the EBR chain loops: the link in the EBR at ${from} points back to the EBR at LBA ${lba}`);
    if (ebrs.length >= MAX_EBRS) throw tableCorrupt(`the EBR chain is longer than ${MAX_EBRS} EBRs at LBA ${lba}; Linux reads at most ${MAX_EBRS} partitions`);
    if (lba < extStart || lba > extEnd) throw tableCorrupt(`the link in the EBR at ${from} points to LBA ${lba}, outside the ${extName}`);
    visited.add(lba);
    const raw = read(lba, 1);
    const record = parseMbrSector(raw, `EBR at LBA ${lba}`);
    const [logical, link, third, fourth] = record.entries;
    for (const [i, e] of [[3, third], [4, fourth]] as const) {
      if (isUsedEntry(e)) throw tableCorrupt(`the EBR at LBA ${lba} has entry ${i} in use (type ${hex8(e.type)}, ${e.sectors} sectors); an EBR holds only a logical partition and a link`);
    }
    if (isUsedEntry(logical) && MBR_EXTENDED_TYPES.has(logical.type)) {
      throw tableCorrupt(`the EBR at LBA ${lba} has an extended type ${hex8(logical.type)} in its partition entry; expected a logical partition`);
    }
    ebrs.push({ lba, record, raw });
    if (!isUsedEntry(link)) return ebrs;
    if (!MBR_EXTENDED_TYPES.has(link.type)) {
      throw tableCorrupt(`the link entry of the EBR at LBA ${lba} has type ${hex8(link.type)}; expected an extended type (0x05, 0x0f or 0x85)`);
    }
    from = `LBA ${lba}`;
    lba = extStart + link.firstLba;
  }
}
