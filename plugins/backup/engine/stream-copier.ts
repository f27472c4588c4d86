// Reads a stream's used data segment by segment in large windows, hashes each segment, and packs the segments that
// changed since the parent (all of them without a parent) into chunks.
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
  key: Uint8Array;
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
  for (let i = 0; i < groups.length; ) {
    context.signal.throwIfAborted();
    // A window: consecutive segments with used data, read in one request.
    const spanStart = groups[i]!.ranges[0]!.offsetBytes;
    let j = i;
    let spanEnd = endOf(groups[i]!.ranges);
    while (j + 1 < groups.length) {
      const next = groups[j + 1]!;
      const nextEnd = endOf(next.ranges);
      if (nextEnd - spanStart > WINDOW_BYTES || next.ranges[0]!.offsetBytes - spanEnd > MAX_READ_GAP) break;
      spanEnd = nextEnd;
      j++;
    }
    const window = new Uint8Array(spanEnd - spanStart);
    await context.source.readInto(window, spanStart);
    for (const group of groups.slice(i, j + 1)) {
      const pieces = group.ranges.map((r) => window.subarray(r.offsetBytes - spanStart, r.offsetBytes - spanStart + r.lengthBytes));
      const hash = hashSegment(context.key, group.ranges.map((r) => ({ offsetBytes: r.offsetBytes - stream.startBytes, lengthBytes: r.lengthBytes })), pieces);
      segments.hashes.set(hash, group.segment * SEGMENT_HASH_BYTES);
      const before = parent?.hashes.subarray(group.segment * SEGMENT_HASH_BYTES, (group.segment + 1) * SEGMENT_HASH_BYTES);
      if (before && Buffer.from(before).equals(hash)) continue;
      segments.stored[group.segment >> 3]! |= 1 << (group.segment & 7);
      for (const piece of pieces) await builder.push(piece);
    }
    i = j + 1;
  }
  await builder.flush();
  return { segments, packedBytes: builder.bytesPacked };
}

function endOf(ranges: readonly SourceRange[]): number {
  const last = ranges[ranges.length - 1]!;
  return last.offsetBytes + last.lengthBytes;
}
