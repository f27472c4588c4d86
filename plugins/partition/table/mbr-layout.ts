// The table-neutral Layout of an MBR disk: primaries and the extended partition by slot, logicals 5+ in chain order.
import { extendedSlot, hex32, logicalPartitions, MBR_EXTENDED_TYPES, type MbrDisk } from './mbr-disk.js';
import { isUsedEntry } from './mbr-kind.js';
import { freezeLayout, type DiskGeometry, type Layout, type LayoutPartition } from './layout.js';

/** The last LBA an MBR entry can address. */
export const MBR_MAX_LBA = 0xffffffff;

export const ACTIVE_STATUS = 0x80;

/** The usable range of an MBR disk: everything after LBA 0 that 32-bit LBAs reach. */
export function mbrUsableRange(geometry: DiskGeometry): { firstUsableLba: number; lastUsableLba: number } {
  return { firstUsableLba: 1, lastUsableLba: Math.min(geometry.sectorCount - 1, MBR_MAX_LBA) };
}

/** The Layout of a read MBR disk, numbered as Linux and sfdisk number it; `bootable` is status 0x80 exactly, as sfdisk shows it. */
export function mbrDiskToLayout(disk: MbrDisk, geometry: DiskGeometry): Layout {
  const partitions: LayoutPartition[] = [];
  disk.mbr.entries.forEach((e, i) => {
    if (!isUsedEntry(e)) return;
    const role = MBR_EXTENDED_TYPES.has(e.type) ? 'extended' : 'primary';
    partitions.push({ number: i + 1, startLba: e.firstLba, sizeSectors: e.sectors, mbr: { role, type: e.type, bootable: e.status === ACTIVE_STATUS } });
  });
  if (extendedSlot(disk.mbr)) {
    for (const l of logicalPartitions(disk)) {
      partitions.push({ number: l.number, startLba: l.startLba, sizeSectors: l.sizeSectors, mbr: { role: 'logical', type: l.entry.type, bootable: l.entry.status === ACTIVE_STATUS } });
    }
  }
  return freezeLayout({
    table: 'mbr',
    geometry: { sectorSize: geometry.sectorSize, sectorCount: geometry.sectorCount },
    diskId: hex32(disk.mbr.diskSignature),
    ...mbrUsableRange(geometry),
    partitions,
  });
}
