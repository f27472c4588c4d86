// The on-disk side of an LVM2 physical volume: the label (LABELONE in one of the first four sectors), the PV header
// with its data and metadata areas, and the newest metadata text in each metadata area's ring buffer.
import { ShadowError } from '../../../sdk/index.js';

export type ReadAt = (offsetBytes: number, lengthBytes: number) => Promise<Buffer>;

export interface PvLabel {
  /** 32 characters, as stored (no dashes). */
  uuid: string;
  deviceSizeBytes: number;
  dataAreas: { offsetBytes: number; sizeBytes: number }[];
  metadataAreas: { offsetBytes: number; sizeBytes: number }[];
}

const MDA_MAGIC = ' LVM2 x[5A%r0N*>';
const MDA_HEADER_BYTES = 512;

/** The PV label in the first 2 KiB, or undefined when the device is no PV. */
export async function readPvLabel(read: ReadAt): Promise<PvLabel | undefined> {
  const head = await read(0, 2048);
  for (let sector = 0; sector < 4; sector++) {
    const label = head.subarray(sector * 512, sector * 512 + 512);
    if (label.toString('latin1', 0, 8) !== 'LABELONE' || label.toString('latin1', 24, 32) !== 'LVM2 001') continue;
    let at = label.readUInt32LE(20);
    const uuid = label.toString('latin1', at, at + 32);
    const deviceSizeBytes = Number(label.readBigUInt64LE(at + 32));
    at += 40;
    const areas = () => {
      const list: { offsetBytes: number; sizeBytes: number }[] = [];
      for (; at + 16 <= 512; at += 16) {
        const offsetBytes = Number(label.readBigUInt64LE(at));
        if (offsetBytes === 0) {
          at += 16;
          break;
        }
        list.push({ offsetBytes, sizeBytes: Number(label.readBigUInt64LE(at + 8)) });
      }
      return list;
    };
    const dataAreas = areas();
    return { uuid, deviceSizeBytes, dataAreas, metadataAreas: areas() };
  }
  return undefined;
}

/** The current metadata text of one metadata area (its first raw location), following the ring buffer's wrap. */
export async function readMetadataText(read: ReadAt, area: { offsetBytes: number; sizeBytes: number }): Promise<string | undefined> {
  const header = await read(area.offsetBytes, MDA_HEADER_BYTES);
  if (header.toString('latin1', 4, 20) !== MDA_MAGIC) {
    throw new ShadowError('TABLE_CORRUPT', `No LVM metadata area header at byte ${area.offsetBytes} (magic '${header.toString('latin1', 4, 20)}')`);
  }
  const areaBytes = Number(header.readBigUInt64LE(32));
  const offset = Number(header.readBigUInt64LE(40));
  const size = Number(header.readBigUInt64LE(48));
  if (offset === 0 || size === 0) return undefined;
  const first = Math.min(size, areaBytes - offset);
  const parts = [await read(area.offsetBytes + offset, first)];
  if (first < size) parts.push(await read(area.offsetBytes + MDA_HEADER_BYTES, size - first));
  return Buffer.concat(parts).toString('utf8');
}

/** `41kauSmLfTfXWEaP...` as LVM prints it: `41kauS-mLfT-fXWE-aPEQ-roYL-ft3U-WnbBxh`. */
export function formatLvmUuid(raw: string): string {
  if (raw.includes('-')) return raw;
  const groups = [6, 4, 4, 4, 4, 4, 6];
  let at = 0;
  return groups.map((n) => raw.slice(at, (at += n))).join('-');
}
