// Reads a stream's used data segment by segment in large windows, hashes each segment, and packs the segments that
// changed since the parent (all of them without a parent) into chunks.
import type { KeyObject } from 'node:crypto';
import type { StreamManifest } from './backup-manifest.js';
import { ChunkBuilder } from './chunk-builder.js';
import { bySegment, includedRanges, type SourceRange } from './packed-stream.js';
import { hashSegment, segmentCount, SEGMENT_HASH_BYTES, type StreamSegments } from './segments.js';
import type { SourceReader } from './source-reader.js';

const WINDOW_BYTES = 4 * 1024 * 1024;
/** A gap this large between used segments is skipped rather than read through. */
const MAX_READ_GAP = 1024 * 1024;

export interface CopyContext {
  source: SourceReader;
  chunkSize: number;
  segmentBytes: number;
  key: KeyObject;
  emit: (streamId: number, offsetBytes: number, plain: Uint8Array) => Promise<void>;
  signal: AbortSignal;
}

/** Table sectors and the boot gap: small, stored whole in every image. */
export async function copyExtentStream(stream: StreamManifest, context: CopyContext): Promise<number> {
  const builder = new ChunkBuilder(stream.id, context.chunkSize, context.emit);
  for (const range of includedRanges(stream)) {
    for (let offset = 0; offset < range.lengthBytes; offset += WINDOW_BYTES) {
      const buffer = new Uint8Array(Math.min(WINDOW_BYTES, range.lengthBytes - offset));
      await context.source.readInto(buffer, range.offsetBytes + offset);
      await builder.push(buffer);
    }
  }
  await builder.flush();
  return builder.bytesPacked;
}

/** A filesystem stream; returns its segment record (hashes of all, the stored ones marked) and the bytes packed. */
export async function copyBlockStream(stream: StreamManifest, parent: StreamSegments | undefined, context: CopyContext): Promise<{ segments: StreamSegments; packedBytes: number }> {
  const count = segmentCount(stream.sizeBytes, context.segmentBytes);
  const segments: StreamSegments = { hashes: new Uint8Array(count * SEGMENT_HASH_BYTES), stored: new Uint8Array(Math.ceil(count / 8)) };
  const builder = new ChunkBuilder(stream.id, context.chunkSize, context.emit);
  const groups = bySegment(includedRanges(stream), stream.startBytes, context.segmentBytes);
  const windows = windowsOf(groups);
  const read = (w: Window) => {
    const buffer = new Uint8Array(w.end - w.start);
    return context.source.readInto(buffer, w.start).then(() => buffer);
  };
  // Double buffering: the next window is being read while this one is hashed and packed.
  let next = windows.length > 0 ? read(windows[0]!) : undefined;
  for (const [w, window] of windows.entries()) {
    context.signal.throwIfAborted();
    const data = await next!;
    next = w + 1 < windows.length ? read(windows[w + 1]!) : undefined;
    next?.catch(() => undefined);
    for (const group of window.groups) {
      const pieces = group.ranges.map((r) => data.subarray(r.offsetBytes - window.start, r.offsetBytes - window.start + r.lengthBytes));
      const hash = hashSegment(context.key, group.ranges.map((r) => ({ offsetBytes: r.offsetBytes - stream.startBytes, lengthBytes: r.lengthBytes })), pieces);
      segments.hashes.set(hash, group.segment * SEGMENT_HASH_BYTES);
      const before = parent?.hashes.subarray(group.segment * SEGMENT_HASH_BYTES, (group.segment + 1) * SEGMENT_HASH_BYTES);
      if (before && Buffer.from(before).equals(hash)) continue;
      segments.stored[group.segment >> 3]! |= 1 << (group.segment & 7);
      for (const piece of pieces) await builder.push(piece);
    }
  }
  await builder.flush();
  return { segments, packedBytes: builder.bytesPacked };
}

interface Window {
  start: number;
  end: number;
  groups: { segment: number; ranges: SourceRange[] }[];
}

/** Consecutive segments with used data, each window read in one request. */
function windowsOf(groups: readonly { segment: number; ranges: SourceRange[] }[]): Window[] {
  const out: Window[] = [];
  for (const group of groups) {
    const start = group.ranges[0]!.offsetBytes;
    const end = endOf(group.ranges);
    const last = out.at(-1);
    if (last && end - last.start <= WINDOW_BYTES && start - last.end <= MAX_READ_GAP) {
      last.end = end;
      last.groups.push(group);
    } else {
      out.push({ start, end, groups: [group] });
    }
  }
  return out;
}

function endOf(ranges: readonly SourceRange[]): number {
  const last = ranges[ranges.length - 1]!;
  return last.offsetBytes + last.lengthBytes;
}
