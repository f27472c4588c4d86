// How pure codecs see a disk: a synchronous sector reader in, a list of sector writes out. I/O lives at the edges.
import { ShadowError } from '../../../sdk/index.js';

/** Returns `count` sectors from `lba`; throws TABLE_CORRUPT-worthy errors itself when the range is past the end. */
export type SectorReader = (lba: number, count: number) => Uint8Array;

/** A write the codec wants: `bytes` (a whole number of sectors) at `lba`. */
export interface SectorWrite {
  readonly lba: number;
  readonly bytes: Uint8Array;
}

/** A reader over an in-memory disk image, for tests and for previews. */
export function memoryReader(image: Uint8Array, sectorSize: number): SectorReader {
  return (lba, count) => {
    const start = lba * sectorSize;
    const end = start + count * sectorSize;
    if (lba < 0 || end > image.length) {
      throw new ShadowError('TABLE_CORRUPT', `Sectors ${lba}–${lba + count - 1} lie past the end of the disk (${image.length / sectorSize} sectors of ${sectorSize} bytes); the disk is truncated or the table points outside it`);
    }
    return image.slice(start, end);
  };
}

/** Applies writes to an in-memory image copy. */
export function applyWrites(image: Uint8Array, sectorSize: number, writes: readonly SectorWrite[]): Uint8Array {
  const out = image.slice();
  for (const w of writes) out.set(w.bytes, w.lba * sectorSize);
  return out;
}

/** A reader that sees `writes` laid over `read`: what the disk will hold once they land (for journals and previews). */
export function overlayReader(read: SectorReader, sectorSize: number, writes: readonly SectorWrite[]): SectorReader {
  return (lba, count) => {
    const out = read(lba, count);
    for (const w of writes) {
      const wCount = w.bytes.length / sectorSize;
      const from = Math.max(lba, w.lba);
      const to = Math.min(lba + count, w.lba + wCount);
      if (from < to) out.set(w.bytes.subarray((from - w.lba) * sectorSize, (to - w.lba) * sectorSize), (from - lba) * sectorSize);
    }
    return out;
  };
}
