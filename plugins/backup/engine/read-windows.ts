// Reads a list of byte ranges of a source in large windows, one window ahead of its consumer: what the backup's
// stream copier and `disk copy` share.
import type { SourceRange } from './packed-stream.js';
import type { SourceReader } from './source-reader.js';

export const WINDOW_BYTES = 4 * 1024 * 1024;
/** A gap this large between used ranges is skipped rather than read through. */
const MAX_READ_GAP = 1024 * 1024;

export interface RangeGroup {
  segment: number;
  ranges: SourceRange[];
}

export interface Window<G extends RangeGroup = RangeGroup> {
  start: number;
  end: number;
  groups: G[];
}

/** Consecutive groups of ranges (in ascending order), each window read in one request of at most WINDOW_BYTES. */
export function windowsOf<G extends RangeGroup>(groups: readonly G[]): Window<G>[] {
  const out: Window<G>[] = [];
  for (const group of groups) {
    const start = group.ranges[0]!.offsetBytes;
    const last = group.ranges[group.ranges.length - 1]!;
    const end = last.offsetBytes + last.lengthBytes;
    const window = out.at(-1);
    if (window && end - window.start <= WINDOW_BYTES && start - window.end <= MAX_READ_GAP) {
      window.end = end;
      window.groups.push(group);
    } else {
      out.push({ start, end, groups: [group] });
    }
  }
  return out;
}

/** Windows being read ahead of the consumer: reads wait behind writes in the thread pool, so one is not enough. */
export const READ_AHEAD = 3;

/**
 * Yields each window with its bytes (window.start at index 0), reading up to READ_AHEAD windows ahead while the
 * consumer works. The READ_AHEAD + 1 buffers are reused (fresh multi-MiB buffers cost a page fault per 4 KiB, which
 * made reading slower than compressing), so `data` is valid only until the consumer asks for the next window.
 */
export async function* readWindows<G extends RangeGroup>(source: SourceReader, windows: readonly Window<G>[], signal: AbortSignal): AsyncGenerator<{ window: Window<G>; data: Uint8Array }> {
  const longest = windows.reduce((n, w) => Math.max(n, w.end - w.start), 0);
  const buffers = Array.from({ length: Math.min(windows.length, READ_AHEAD + 1) }, () => new Uint8Array(longest));
  const reads: Promise<Uint8Array>[] = [];
  let issued = 0;
  const issue = () => {
    const w = windows[issued]!;
    const buffer = buffers[issued++ % buffers.length]!.subarray(0, w.end - w.start);
    const read = source.readInto(buffer, w.start).then(() => buffer);
    read.catch(() => undefined);
    reads.push(read);
  };
  try {
    for (const window of windows) {
      signal.throwIfAborted();
      // The buffer of the window yielded last is free again: refill up to READ_AHEAD reads in flight.
      while (issued < windows.length && reads.length < READ_AHEAD) issue();
      const data = await reads.shift()!;
      if (issued < windows.length) issue();
      yield { window, data };
    }
  } finally {
    // A consumer that stops early must not leave a read running into a closed source.
    await Promise.allSettled(reads);
  }
}
