// CHS addressing for MBR entries: the policy we write new entries with, chosen to match sfdisk (libfdisk) byte for byte.
//
// Policy (verified against sfdisk 2.38 on image files and on 512- and 4096-byte-sector loop devices, which report no
// HDIO_GETGEO geometry): a fixed geometry of 255 heads and 63 sectors per track, in units of the disk's logical sector;
// the first and last CHS of an entry encode its absolute first and last LBA (for an EBR link entry: the next EBR's LBA
// and the next logical's last LBA); an LBA past cylinder 1023 is clamped to 1023/254/63 (bytes fe ff ff), as libfdisk
// does in its DOS-compatible mode. parted uses other geometries (it derives one from the disk size), so its CHS bytes
// differ from ours; we keep whatever CHS bytes a table already has and only compute CHS for entries we change.
import { lbaToChs } from './mbr-sector.js';

export interface ChsGeometry {
  readonly heads: number;
  readonly sectorsPerTrack: number;
}

/** The geometry sfdisk assumes for image files and devices without one, e.g. loop devices. */
export const SFDISK_CHS_GEOMETRY: ChsGeometry = Object.freeze({ heads: 255, sectorsPerTrack: 63 });

export type ChsBytes = readonly [number, number, number];

/** The three CHS bytes sfdisk writes for an absolute LBA. */
export function chsBytes(lba: number, geometry: ChsGeometry = SFDISK_CHS_GEOMETRY): ChsBytes {
  return lbaToChs(lba, geometry.heads, geometry.sectorsPerTrack);
}

/** Cylinder, head and sector decoded from the three raw bytes (sector is 1-based; 0 means unset). */
export function decodeChs(bytes: ChsBytes): { cylinder: number; head: number; sector: number } {
  const [head, sectorByte, cylinderLow] = bytes;
  return { cylinder: ((sectorByte & 0xc0) << 2) | cylinderLow, head, sector: sectorByte & 0x3f };
}

/** The LBA a CHS triple addresses under a geometry (for diagnostics; LBA fields are authoritative). */
export function chsToLba(bytes: ChsBytes, geometry: ChsGeometry = SFDISK_CHS_GEOMETRY): number {
  const { cylinder, head, sector } = decodeChs(bytes);
  return (cylinder * geometry.heads + head) * geometry.sectorsPerTrack + sector - 1;
}
