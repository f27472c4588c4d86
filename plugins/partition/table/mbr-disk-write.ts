// Turns an MbrDisk into the sectors to write: LBA 0 and every EBR, each over its raw bytes so unchanged sectors stay identical.
import { ShadowError } from '../../../sdk/index.js';
import type { MbrDisk } from './mbr-disk.js';
import { serializeMbrSector } from './mbr-sector.js';
import type { DiskGeometry } from './layout.js';
import type { SectorWrite } from './sector-io.js';

/** The writes for LBA 0 and the EBR chain, in LBA order of the chain (LBA 0 first). Pure: nothing is written here. */
export function writeMbrDisk(disk: MbrDisk, geometry: DiskGeometry): SectorWrite[] {
  if (disk.sectorSize !== geometry.sectorSize) {
    throw new ShadowError('SIZE_MISMATCH', `Cannot write an MBR table made for ${disk.sectorSize}-byte sectors onto a disk with ${geometry.sectorSize}-byte sectors; rebuild the table for the target disk`);
  }
  const sector = (raw: Uint8Array | undefined) => (raw && raw.length === geometry.sectorSize ? { base: raw } : { sectorSize: geometry.sectorSize });
  const writes: SectorWrite[] = [{ lba: 0, bytes: serializeMbrSector(disk.mbr, sector(disk.mbrRaw)) }];
  const seen = new Set<number>([0]);
  for (const ebr of disk.ebrs) {
    if (ebr.lba <= 0 || ebr.lba >= geometry.sectorCount) {
      throw new ShadowError('SIZE_MISMATCH', `Cannot write the EBR at LBA ${ebr.lba}: the disk has ${geometry.sectorCount} sectors; shrink or move the logical partitions`);
    }
    if (seen.has(ebr.lba)) throw new ShadowError('INVALID_ARGUMENT', `Cannot write two EBRs at LBA ${ebr.lba}; each logical partition needs its own EBR sector`);
    seen.add(ebr.lba);
    writes.push({ lba: ebr.lba, bytes: serializeMbrSector(ebr.record, sector(ebr.raw)) });
  }
  return writes;
}
