// A FAT boot sector's BPB as the vfat resize needs it: the volume's size, its FAT type (by cluster count, as the
// specification defines it), where its metadata ends, and the hidden-sectors field a resize must keep.

export interface FatBootSector {
  readonly bytesPerSector: number;
  readonly totalSectors: number;
  /** BPB offset 0x1C: the partition's start as the volume's boot code expects it. */
  readonly hiddenSectors: number;
  readonly fatBits: 12 | 16 | 32;
  /** Sectors before the data area (reserved, FATs, FAT12/16 root directory): what a resize rewrites. */
  readonly metadataSectors: number;
  /** The FAT32 backup boot sector's place in sectors, or 0 when there is none. */
  readonly backupBootSector: number;
}

/** The BPB of `sector`, or undefined when it is no FAT boot sector. */
export function parseFatBootSector(sector: Uint8Array): FatBootSector | undefined {
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const bytesPerSector = view.getUint16(11, true);
  const sectorsPerCluster = sector[13]!;
  const reserved = view.getUint16(14, true);
  const fats = sector[16]!;
  const rootEntries = view.getUint16(17, true);
  const totalSectors = view.getUint16(19, true) || view.getUint32(32, true);
  const fatSectors = view.getUint16(22, true) || view.getUint32(36, true);
  if (sector[510] !== 0x55 || sector[511] !== 0xaa || ![512, 1024, 2048, 4096].includes(bytesPerSector)) return undefined;
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0 || reserved === 0 || fats === 0 || fatSectors === 0) return undefined;
  const metadataSectors = reserved + fats * fatSectors + Math.ceil((rootEntries * 32) / bytesPerSector);
  if (totalSectors <= metadataSectors) return undefined;
  const clusters = Math.floor((totalSectors - metadataSectors) / sectorsPerCluster);
  const fatBits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
  return {
    bytesPerSector, totalSectors, hiddenSectors: view.getUint32(28, true), fatBits, metadataSectors,
    backupBootSector: fatBits === 32 ? view.getUint16(50, true) : 0,
  };
}

/** Where the extended BPB (signature 0x29, then volume serial and label) starts: after FAT32's longer BPB. */
const extendedBpbAt = (fatBits: number) => (fatBits === 32 ? 66 : 38);

/**
 * Gives `sector` (a boot sector of FAT type `fatBits`) the identity of `original`: its hidden sectors, and its volume
 * serial and label when both carry an extended BPB (fstab's UUID=, and the label fsck.fat compares with the root
 * directory's). Returns whether anything changed.
 */
export function keepFatIdentity(sector: Uint8Array, original: Uint8Array, fatBits: number, originalFatBits: number): boolean {
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const hidden = new DataView(original.buffer, original.byteOffset, original.byteLength).getUint32(28, true);
  let changed = view.getUint32(28, true) !== hidden;
  view.setUint32(28, hidden, true);
  const at = extendedBpbAt(fatBits);
  const from = extendedBpbAt(originalFatBits);
  if (sector[at] === 0x29 && original[from] === 0x29) {
    const identity = original.subarray(from + 1, from + 16);
    changed ||= !identity.every((b, i) => sector[at + 1 + i] === b);
    sector.set(identity, at + 1);
  }
  return changed;
}
