// Worker thread: compresses, hashes and (when keyed) encrypts chunks posted by the chunk pool.
import { parentPort } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { encodeChunk, type ChunkMeta } from '../image/chunk-codec.js';
import type { ChunkKeys } from '../image/image-keys.js';
import type { SegmentSpan } from './chunk-builder.js';
import { hashSegment, segmentKeyObject, SEGMENT_HASH_BYTES } from './segments.js';

export interface ChunkTask {
  id: number;
  keys: ChunkKeys | undefined;
  meta: ChunkMeta;
  plain: Uint8Array;
  level: number;
  /** A record buffer handed back by the pool for reuse (its contents are overwritten). */
  out?: Uint8Array;
  /** Segments packed whole in this chunk, to hash with the segment key (a full backup); none otherwise. */
  segments?: { key: Uint8Array; spans: readonly SegmentSpan[] };
}

let segmentKey: { bytes: Uint8Array; key: KeyObject } | undefined;

/** SEGMENT_HASH_BYTES per span, in span order. */
function hashSpans(plain: Uint8Array, segments: NonNullable<ChunkTask['segments']>): Uint8Array {
  if (!segmentKey || !Buffer.from(segmentKey.bytes).equals(segments.key)) segmentKey = { bytes: segments.key, key: segmentKeyObject(segments.key) };
  const out = new Uint8Array(segments.spans.length * SEGMENT_HASH_BYTES);
  segments.spans.forEach((span, i) => out.set(hashSegment(segmentKey!.key, span.ranges, [plain.subarray(span.start, span.start + span.length)]), i * SEGMENT_HASH_BYTES));
  return out;
}

parentPort?.on('message', (task: ChunkTask) => {
  try {
    const segmentHashes = task.segments && task.segments.spans.length > 0 ? hashSpans(task.plain, task.segments) : undefined;
    const encoded = encodeChunk(task.keys, task.meta, task.plain, task.level, task.out);
    // The plain buffer goes back too, for the pool to refill (unless the record is made over the same memory).
    const plain = task.plain.buffer === encoded.record.buffer ? undefined : task.plain;
    parentPort!.postMessage({ id: task.id, encoded, plain, segmentHashes }, plain ? [encoded.record.buffer as ArrayBuffer, plain.buffer as ArrayBuffer] : [encoded.record.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id: task.id, error: { message: (error as Error).message, code: (error as { code?: string }).code } });
  }
});
