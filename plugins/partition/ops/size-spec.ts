// Sizes and positions typed by people: `2048s`, `100MiB`, `1G`, `512B`; binary units as sfdisk reads them.
import { ShadowError } from '../../../sdk/index.js';

const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1, k: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tib: 2 ** 40,
};

/** Sectors for a size or position; plain numbers and `s` suffixes are sectors. */
export function parseSectors(text: string, sectorSize: number, what = 'size'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) throw new ShadowError('INVALID_ARGUMENT', `Cannot read ${what} '${text}'; write it like 2048s, 512MiB or 2GiB`);
  const value = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  if (unit === '' || unit === 's') {
    if (!Number.isInteger(value)) throw new ShadowError('INVALID_ARGUMENT', `The ${what} '${text}' is not a whole number of sectors`);
    return value;
  }
  const bytesPerUnit = UNIT_BYTES[unit];
  if (bytesPerUnit === undefined) throw new ShadowError('INVALID_ARGUMENT', `Unknown unit '${match[2]}' in ${what} '${text}'; use s, B, KiB, MiB, GiB or TiB`);
  const bytes = value * bytesPerUnit;
  if (!Number.isInteger(bytes) || bytes % sectorSize !== 0) {
    throw new ShadowError('INVALID_ARGUMENT', `The ${what} '${text}' is ${bytes} bytes, not a whole number of ${sectorSize}-byte sectors`);
  }
  return bytes / sectorSize;
}
