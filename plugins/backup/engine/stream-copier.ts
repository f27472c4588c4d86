// Reads a stream's used data segment by segment in large windows, hashes each segment, and packs the segments that
// changed since the parent (all of them without a parent) into chunks.
import type { KeyObject } from 'node:crypto';
import type { StreamManifest } from './backup-manifest.js';
import { ChunkBuilder, type SegmentSpan } from './chunk-builder.js';
import { bySegment, includedRanges } from './packed-stream.js';
import { hashSegment, segmentCount, SEGMENT_HASH_BYTES, type StreamSegments } from './segments.js';
import type { SourceReader } from './source-reader.js';
import { readWindows, WINDOW_BYTES, windowsOf } from './read-windows.js';

export interface CopyContext {
  source: SourceReader;
  chunkSize: number;
  segmentBytes: number;
  key: KeyObject;
  /** Hands a chunk on; its segment spans (a full backup) are hashed by the encoder into `hashesInto` (the stream's). */
  emit: (streamId: number, offsetBytes: number, plain: Uint8Array, spans: readonly SegmentSpan[], hashesInto?: Uint8Array) => Promise<void>;
  /** A chunk buffer to fill (recycled from the encoders when one is free). */
  allocate?: (size: number) => Uint8Array;
  signal: AbortSignal;
}

/** Table sectors and the boot gap: small, stored whole in every image. */
export async function copyExtentStream(stream: StreamManifest, context: CopyContext): Promise<number> {
  const builder = new ChunkBuilder(stream.id, context.chunkSize, context.emit, context.allocate);
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

/**
 * Changed-block tracking (hot processing): which bytes of the source were written since the parent image was taken.
 * Offsets are on the source, in bytes.
 */
export interface ChangedBlocks {
  changed(offsetBytes: number, lengthBytes: number): boolean;
}

export interface ParentStream {
  segments: StreamSegments;
  /** The parent's manifest of this stream: which blocks it used. */
  manifest: StreamManifest;
  /** With tracking, a segment nobody wrote and whose used blocks are the parent's is neither read nor hashed. */
  changedBlocks?: ChangedBlocks;
}

/** A filesystem stream; returns its segment record (hashes of all, the stored ones marked) and the bytes packed. */
export async function copyBlockStream(stream: StreamManifest, parentStream: ParentStream | undefined, context: CopyContext): Promise<{ segments: StreamSegments; packedBytes: number; segmentsSkipped: number }> {
  const parent = parentStream?.segments;
  const count = segmentCount(stream.sizeBytes, context.segmentBytes);
  const segments: StreamSegments = { hashes: new Uint8Array(count * SEGMENT_HASH_BYTES), stored: new Uint8Array(Math.ceil(count / 8)) };
  const builder = new ChunkBuilder(stream.id, context.chunkSize, (id, offset, plain, spans) => context.emit(id, offset, plain, spans, segments.hashes), context.allocate);
  let groups = bySegment(includedRanges(stream), stream.startBytes, context.segmentBytes);
  let segmentsSkipped = 0;
  if (parentStream?.changedBlocks) {
    const tracked = parentStream.changedBlocks;
    const before = new Map(bySegment(includedRanges(parentStream.manifest), stream.startBytes, context.segmentBytes).map((g) => [g.segment, rangesKey(g.ranges)]));
    groups = groups.filter((group) => {
      if (before.get(group.segment) !== rangesKey(group.ranges) || group.ranges.some((r) => tracked.changed(r.offsetBytes, r.lengthBytes))) return true;
      // Unwritten since the parent and the same blocks in use: the parent's hash (and data) still hold.
      segments.hashes.set(parentStream.segments.hashes.subarray(group.segment * SEGMENT_HASH_BYTES, (group.segment + 1) * SEGMENT_HASH_BYTES), group.segment * SEGMENT_HASH_BYTES);
      segmentsSkipped++;
      return false;
    });
  }
  // The next window is being read while this one is hashed and packed.
  for await (const { window, data } of readWindows(context.source, windowsOf(groups), context.signal)) {
    for (const group of window.groups) {
      const pieces = group.ranges.map((r) => data.subarray(r.offsetBytes - window.start, r.offsetBytes - window.start + r.lengthBytes));
      const ranges = group.ranges.map((r) => ({ offsetBytes: r.offsetBytes - stream.startBytes, lengthBytes: r.lengthBytes }));
      if (!parent) {
        // Every segment is stored: the encoding worker hashes it from the chunk, off this thread.
        segments.stored[group.segment >> 3]! |= 1 << (group.segment & 7);
        await builder.pushSegment(group.segment, ranges, pieces);
        continue;
      }
      const hash = hashSegment(context.key, ranges, pieces);
      segments.hashes.set(hash, group.segment * SEGMENT_HASH_BYTES);
      const before = parent.hashes.subarray(group.segment * SEGMENT_HASH_BYTES, (group.segment + 1) * SEGMENT_HASH_BYTES);
      if (Buffer.from(before).equals(hash)) continue;
      segments.stored[group.segment >> 3]! |= 1 << (group.segment & 7);
      for (const piece of pieces) await builder.push(piece);
    }
  }
  await builder.flush();
  return { segments, packedBytes: builder.bytesPacked, segmentsSkipped };
}

function rangesKey(ranges: readonly { offsetBytes: number; lengthBytes: number }[]): string {
  return ranges.map((r) => `${r.offsetBytes}+${r.lengthBytes}`).join(';');
}
