// The read pass of a surface test: O_DIRECT reads of large blocks, a few in flight; a block that fails is narrowed
// down by halving until single sectors, so the bad-sector map names exactly the sectors that cannot be read and the
// good media around them costs a few dozen extra reads, not one read per sector.
import { allocAligned, DirectFile, isNativeError } from '../../native/index.js';
import type { RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';

/** A run of unreadable logical sectors, counted from the start of the scanned device. */
export interface BadRange {
  firstLba: number;
  count: number;
}

export interface ScanResult {
  badRanges: BadRange[];
  readBytes: number;
  /** Reads issued while narrowing failed blocks down. */
  retryReads: number;
  seconds: number;
}

const IN_FLIGHT = 2;
/** Errors a failing medium gives; anything else (EINVAL, EBADF) is our bug or a vanished device and stops the scan. */
const MEDIA_ERRORS = new Set(['EIO', 'ENODATA', 'EILSEQ', 'EBADMSG', 'ENXIO', 'EREMOTEIO']);

function isMediaError(error: unknown): boolean {
  return isNativeError(error) && MEDIA_ERRORS.has(error.code);
}

/** Merges sorted single bad sectors and ranges into maximal ranges. */
export function mergeRanges(ranges: readonly BadRange[]): BadRange[] {
  const sorted = [...ranges].sort((a, b) => a.firstLba - b.firstLba);
  const merged: BadRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && last.firstLba + last.count >= range.firstLba) last.count = Math.max(last.count, range.firstLba + range.count - last.firstLba);
    else merged.push({ ...range });
  }
  return merged;
}

/** Reads [startBytes, endBytes) of `path`; both multiples of its logical sector size. */
export async function scanSurface(path: string, startBytes: number, endBytes: number, blockBytes: number, run: RunContext): Promise<ScanResult & { sectorSize: number }> {
  using file = DirectFile.open(path, 'r');
  const sectorSize = file.alignment;
  if (startBytes % sectorSize || endBytes % sectorSize || blockBytes % sectorSize) {
    throw new ShadowError('INVALID_ARGUMENT', `The range ${startBytes}-${endBytes} and block size ${blockBytes} must be multiples of ${path}'s ${sectorSize}-byte sectors`);
  }
  const buffers = Array.from({ length: IN_FLIGHT }, () => allocAligned(blockBytes));
  const bad: BadRange[] = [];
  let retryReads = 0;
  let readBytes = 0;
  const started = performance.now();

  const readInto = async (buffer: Buffer, offset: number, length: number): Promise<boolean> => {
    try {
      await file.read(buffer.subarray(0, length), BigInt(offset));
      return true;
    } catch (error) {
      if (isMediaError(error)) return false;
      throw ShadowError.from(error, 'IO_ERROR');
    }
  };
  /** [offset, offset + length) failed as a whole: halve until single sectors. */
  const narrow = async (buffer: Buffer, offset: number, length: number): Promise<void> => {
    run.signal.throwIfAborted();
    if (length === sectorSize) {
      bad.push({ firstLba: offset / sectorSize, count: 1 });
      return;
    }
    const half = Math.ceil(length / sectorSize / 2) * sectorSize;
    for (const [at, size] of [[offset, half], [offset + half, length - half]] as const) {
      retryReads++;
      if (!(await readInto(buffer, at, size))) await narrow(buffer, at, size);
    }
  };

  type Pending = { offset: number; length: number; buffer: Buffer; ok: Promise<boolean> };
  const pending: Pending[] = [];
  const settle = async (item: Pending) => {
    if (!(await item.ok)) await narrow(item.buffer, item.offset, item.length);
    readBytes += item.length;
    run.progress({ phase: 'read', done: readBytes, total: endBytes - startBytes });
  };
  let turn = 0;
  for (let offset = startBytes; offset < endBytes; offset += blockBytes) {
    run.signal.throwIfAborted();
    if (pending.length === IN_FLIGHT) await settle(pending.shift()!);
    const length = Math.min(blockBytes, endBytes - offset);
    const buffer = buffers[turn++ % IN_FLIGHT]!;
    pending.push({ offset, length, buffer, ok: readInto(buffer, offset, length) });
  }
  while (pending.length) await settle(pending.shift()!);
  return { badRanges: mergeRanges(bad), readBytes, retryReads, seconds: (performance.now() - started) / 1000, sectorSize };
}
