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

/**
 * Yields each window with its bytes (window.start at index 0). Double buffering: the next window is being read while
 * the consumer works on this one.
 */
export async function* readWindows<G extends RangeGroup>(source: SourceReader, windows: readonly Window<G>[], signal: AbortSignal): AsyncGenerator<{ window: Window<G>; data: Uint8Array }> {
  const read = (w: Window<G>) => {
    const buffer = new Uint8Array(w.end - w.start);
    return source.readInto(buffer, w.start).then(() => buffer);
  };
  let next = windows.length > 0 ? read(windows[0]!) : undefined;
  try {
    for (const [i, window] of windows.entries()) {
      signal.throwIfAborted();
      const data = await next!;
      next = i + 1 < windows.length ? read(windows[i + 1]!) : undefined;
      next?.catch(() => undefined);
      yield { window, data };
    }
  } finally {
    // A consumer that stops early must not leave a read running into a closed source.
    await next?.catch(() => undefined);
  }
}
