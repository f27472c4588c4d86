// After a move, an NTFS boot sector's "hidden sectors" field (BPB offset 0x1C, the partition's start LBA) must name
// the new start, or Windows' boot code loads from the old place. The backup boot sector at the volume's end too.

/** True when `sector` is an NTFS boot sector. */
export function isNtfsBootSector(sector: Uint8Array): boolean {
  return new TextDecoder('latin1').decode(sector.subarray(3, 11)) === 'NTFS    ' && sector[510] === 0x55 && sector[511] === 0xaa;
}

/** The BPB's bytes per sector. */
export function ntfsBytesPerSector(sector: Uint8Array): number {
  return sector[11]! | (sector[12]! << 8);
}

/** Where the backup boot sector is, in bytes from the volume start: the sector after the last one counted by the BPB. */
export function ntfsBackupBootOffset(sector: Uint8Array): number {
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  return Number(view.getBigUint64(0x28, true)) * ntfsBytesPerSector(sector);
}

/** Sets the hidden-sectors field to `startLba` (in the disk's sectors, converted to the BPB's); false when unchanged. */
export function setNtfsHiddenSectors(sector: Uint8Array, startLba: number, diskSectorSize: number): boolean {
  const value = (startLba * diskSectorSize) / ntfsBytesPerSector(sector);
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  if (value > 0xffffffff || !Number.isInteger(value) || view.getUint32(0x1c, true) === value) return false;
  view.setUint32(0x1c, value, true);
  return true;
}
