// Segments: the unit of change detection between a backup and its parent. Each filesystem stream is cut into
// fixed-size pieces of the disk; an image records a keyed hash of each piece (of which blocks are used and their bytes)
// and which pieces it stores. A child stores only the pieces whose hash differs from its parent's.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { ShadowError } from '../../../sdk/index.js';
import type { ImageReader } from '../image/index.js';
import type { BackupManifest } from './backup-manifest.js';
import type { SourceRange } from './packed-stream.js';

export const SEGMENT_BYTES = 64 * 1024;
export const SEGMENT_HASH_BYTES = 16;

export interface StreamSegments {
  /** SEGMENT_HASH_BYTES per segment; all zero for a segment without used blocks. */
  hashes: Uint8Array;
  /** One bit per segment (LSB first): the image stores this segment's used blocks. */
  stored: Uint8Array;
}

export interface SegmentDoc {
  version: 1;
  streams: Record<string, { hashes: string; stored: string }>;
}

export function segmentCount(streamSizeBytes: number, segmentBytes: number): number {
  return Math.ceil(streamSizeBytes / segmentBytes);
}

/** HMAC over where the used bytes lie in the segment and what they are, so a change of either changes the hash. */
export function hashSegment(key: KeyObject, ranges: readonly SourceRange[], data: readonly Uint8Array[]): Uint8Array {
  const mac = createHmac('sha256', key);
  for (const r of ranges) mac.update(`${r.offsetBytes}+${r.lengthBytes};`);
  for (const d of data) mac.update(d);
  return mac.digest().subarray(0, SEGMENT_HASH_BYTES);
}

/** The segment key as a KeyObject, made once per backup rather than once per segment. */
export function segmentKeyObject(key: Uint8Array): KeyObject {
  return createSecretKey(key);
}

export function isStored(segments: StreamSegments, index: number): boolean {
  return ((segments.stored[index >> 3] ?? 0) >> (index & 7)) & 1 ? true : false;
}

export function encodeSegmentDoc(perStream: ReadonlyMap<number, StreamSegments>): Uint8Array {
  const doc: SegmentDoc = { version: 1, streams: {} };
  for (const [id, s] of perStream) doc.streams[String(id)] = { hashes: Buffer.from(s.hashes).toString('base64'), stored: Buffer.from(s.stored).toString('base64') };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** The segments of every filesystem stream of an image, from its segments stream. */
export async function readSegments(reader: ImageReader, manifest: BackupManifest, source: string): Promise<Map<number, StreamSegments>> {
  const out = new Map<number, StreamSegments>();
  if (!manifest.segments) return out;
  const parts: Uint8Array[] = [];
  for (const chunk of reader.chunks) if (chunk.streamId === manifest.segments.stream) parts.push(await reader.readChunk(chunk.index));
  let doc: SegmentDoc;
  try {
    doc = JSON.parse(Buffer.concat(parts).toString('utf8')) as SegmentDoc;
    if (doc.version !== 1) throw new Error(`version ${String(doc.version)}`);
  } catch (error) {
    throw new ShadowError('IMAGE_CORRUPT', `The segment table of ${source} is unreadable (${(error as Error).message})`);
  }
  for (const [id, s] of Object.entries(doc.streams)) out.set(Number(id), { hashes: Buffer.from(s.hashes, 'base64'), stored: Buffer.from(s.stored, 'base64') });
  return out;
}
