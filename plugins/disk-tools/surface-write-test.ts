// The non-destructive write pass of a surface test: each block is read, saved to a journal file (flushed), overwritten
// with a random pattern, read back and compared, then written back as it was and checked again. A block that cannot be
// read is left alone (the read pass maps it); one whose pattern or original does not read back is reported bad.
import { randomFillSync } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { allocAligned, DirectFile, isNativeError } from '../../native/index.js';
import type { RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import type { BadRange } from './surface-scan.js';

export interface WriteTestResult {
  testedBytes: number;
  /** Blocks whose pattern or original did not read back, or whose writes failed (in sectors of the device). */
  badRanges: BadRange[];
  /** Blocks skipped because they could not be read to be saved. */
  unreadableRanges: BadRange[];
  seconds: number;
}

/**
 * Tests [startBytes, endBytes) of `path` in blocks of `blockBytes`. `journalPath` holds the block being tested
 * (offset, then its bytes) while it is overwritten, so an interruption leaves its original recoverable by hand.
 */
export async function writeTestSurface(path: string, startBytes: number, endBytes: number, blockBytes: number, journalPath: string, run: RunContext): Promise<WriteTestResult> {
  using file = DirectFile.open(path, 'r+');
  const sector = file.alignment;
  const original = allocAligned(blockBytes);
  const pattern = allocAligned(blockBytes);
  const check = allocAligned(blockBytes);
  await mkdir(dirname(journalPath), { recursive: true, mode: 0o700 });
  const journal = await open(journalPath, 'w', 0o600);
  const badRanges: BadRange[] = [];
  const unreadableRanges: BadRange[] = [];
  const started = performance.now();
  const range = (offset: number, length: number): BadRange => ({ firstLba: offset / sector, count: length / sector });
  const attempt = async (step: () => Promise<unknown>): Promise<boolean> => {
    try {
      await step();
      return true;
    } catch (error) {
      if (isNativeError(error) && ['EIO', 'ENODATA', 'EILSEQ', 'EBADMSG', 'ENOSPC', 'EREMOTEIO'].includes(error.code)) return false;
      throw ShadowError.from(error, 'IO_ERROR');
    }
  };
  try {
    for (let offset = startBytes; offset < endBytes; offset += blockBytes) {
      run.signal.throwIfAborted();
      const length = Math.min(blockBytes, endBytes - offset);
      const at = BigInt(offset);
      const [o, p, c] = [original.subarray(0, length), pattern.subarray(0, length), check.subarray(0, length)];
      if (!(await attempt(() => file.read(o, at)))) {
        unreadableRanges.push(range(offset, length));
        continue;
      }
      const header = Buffer.alloc(16);
      header.writeBigUInt64LE(at, 0);
      header.writeBigUInt64LE(BigInt(length), 8);
      await journal.write(header, 0, 16, 0);
      await journal.write(o, 0, length, 16);
      await journal.sync();
      randomFillSync(p);
      const patternOk = (await attempt(() => file.write(p, at))) && (await attempt(() => file.read(c, at))) && c.equals(p);
      // The original goes back whatever the pattern did; only then is the journal's copy no longer needed.
      const restored = (await attempt(() => file.write(o, at))) && (await attempt(() => file.read(c, at))) && c.equals(o);
      if (!restored) throw new ShadowError('IO_ERROR', `The original bytes of ${path} at ${offset} (${length} bytes) did not read back after the write test; they are saved in ${journalPath} (16-byte header: offset, length)`);
      if (!patternOk) badRanges.push(range(offset, length));
      run.progress({ phase: 'write test', done: offset + length - startBytes, total: endBytes - startBytes });
    }
  } finally {
    await journal.close();
  }
  await rm(journalPath);
  return { testedBytes: endBytes - startBytes, badRanges, unreadableRanges, seconds: (performance.now() - started) / 1000 };
}
