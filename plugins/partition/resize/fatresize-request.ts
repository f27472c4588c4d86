// What to ask fatresize for so that the filesystem it makes fits. fatresize 1.1.0 does not resize to the size it is
// given: it prints the new end in parted's "compact" unit (3 significant digits: 41.9MB, 419MB, 12.3GB), parses that
// back (up to half a unit either way), snaps the end to the device's last sector when that lies within half a unit of
// it, and libparted keeps the device's last sector out of any FAT. This replays that arithmetic (libparted's unit.c
// and fatresize.c) to find the largest request whose filesystem ends inside the wanted size.

const UNIT_BYTES = [1e12, 1e9, 1e6, 1e3] as const;

/** The sector that parted's compact-unit print-and-parse round trip turns sector `end` into, and its search radius. */
function roundTrip(end: number, sectorSize: number, deviceSectors: number): { sector: number; radius: number; text: string } {
  const bytes = end * sectorSize;
  const unit = UNIT_BYTES.find((u) => bytes >= 10 * u) ?? 1;
  const d = (bytes / unit) * (1 + Number.EPSILON);
  const w = d + (d < 10 ? 0.005 : d < 100 ? 0.05 : 0.5);
  const text = d.toFixed(w < 10 ? 2 : w < 100 ? 1 : 0);
  const radius = unit === 1 ? 0 : Math.max(0, Math.floor(Math.ceil(unit / sectorSize) / 2) - 1);
  const sector = Math.min(deviceSectors - 1, Math.max(0, Math.trunc((Number(text) * unit) / sectorSize)));
  return { sector, radius, text: `${text}/${unit}` };
}

export interface FatresizeRequest {
  /** The byte count to pass as `fatresize -s`. */
  readonly sizeBytes: number;
  /** The filesystem's size in sectors that request gives. */
  readonly sectors: number;
}

/**
 * The request for a FAT on a device of `deviceSectors` (of `sectorSize` bytes, the filesystem at sector 0) to end
 * within its first `wantedSectors`; undefined when no request lands there.
 */
export function fatresizeRequest(deviceSectors: number, wantedSectors: number, sectorSize: number): FatresizeRequest | undefined {
  const deviceEnd = deviceSectors - 1;
  const oldText = roundTrip(deviceEnd, sectorSize, deviceSectors).text;
  const step = Math.max(1, Math.floor(1e6 / sectorSize / 1000) * (wantedSectors * sectorSize >= 10e9 ? 1000 : 1));
  for (let asked = Math.min(wantedSectors - 1, deviceEnd - 1); asked > 0; asked -= step) {
    const { sector, radius, text } = roundTrip(asked, sectorSize, deviceSectors);
    // Same text as the old end: fatresize keeps the old end (and asserts). Within the radius of the last sector: snapped
    // to it, outside what libparted allows a FAT. Past the wanted end: would not fit the partition.
    if (text === oldText || sector + radius >= deviceEnd || sector + 1 > wantedSectors) continue;
    return { sizeBytes: asked * sectorSize, sectors: sector + 1 };
  }
  return undefined;
}
