// Maps a stream's packed data (its included blocks, in order) to byte ranges of the source, both ways. Pure.
import { ShadowError } from '../../../sdk/index.js';
import type { StreamManifest } from './backup-manifest.js';

export interface SourceRange {
  /** Absolute byte offset on the source (or target) disk. */
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/**
 * The byte ranges a stream's packed data comes from, in packed order, relative to the disk: its used blocks, or with
 * `stored` (an incremental image's segments) only the used blocks of the segments the image stores.
 */
export function includedRanges(stream: StreamManifest, stored?: { segmentBytes: number; isStored: (segment: number) => boolean }): SourceRange[] {
  if (stream.extents) return stream.extents.map((e) => ({ offsetBytes: stream.startBytes + e.offsetBytes, lengthBytes: e.lengthBytes }));
  const used = usedRanges(stream);
  if (!stored) return used;
  return bySegment(used, stream.startBytes, stored.segmentBytes).filter((s) => stored.isStored(s.segment)).flatMap((s) => s.ranges);
}

/** Splits ranges at segment boundaries (segments counted from `streamStart`) and groups them by segment, in order. */
export function bySegment(ranges: readonly SourceRange[], streamStart: number, segmentBytes: number): { segment: number; ranges: SourceRange[] }[] {
  const out: { segment: number; ranges: SourceRange[] }[] = [];
  for (const r of ranges) {
    let offset = r.offsetBytes;
    const end = r.offsetBytes + r.lengthBytes;
    while (offset < end) {
      const segment = Math.floor((offset - streamStart) / segmentBytes);
      const segmentEnd = streamStart + (segment + 1) * segmentBytes;
      const piece = { offsetBytes: offset, lengthBytes: Math.min(end, segmentEnd) - offset };
      const last = out.at(-1);
      if (last?.segment === segment) last.ranges.push(piece);
      else out.push({ segment, ranges: [piece] });
      offset += piece.lengthBytes;
    }
  }
  return out;
}

function usedRanges(stream: StreamManifest): SourceRange[] {
  if (stream.bitmap === undefined) throw new ShadowError('IMAGE_CORRUPT', `Stream ${stream.id} has neither extents nor a block bitmap`);
  const bits = Buffer.from(stream.bitmap, 'base64');
  const blocks = Math.ceil(stream.sizeBytes / stream.blockSize);
  const out: SourceRange[] = [];
  let runStart = -1;
  for (let block = 0; block <= blocks; block++) {
    const used = block < blocks && ((bits[block >> 3] ?? 0) >> (block & 7)) & 1;
    if (used && runStart < 0) runStart = block;
    if (!used && runStart >= 0) {
      const offset = runStart * stream.blockSize;
      out.push({ offsetBytes: stream.startBytes + offset, lengthBytes: Math.min(block * stream.blockSize, stream.sizeBytes) - offset });
      runStart = -1;
    }
  }
  return out;
}

export function packedLength(ranges: readonly SourceRange[]): number {
  return ranges.reduce((n, r) => n + r.lengthBytes, 0);
}

/** The source ranges that packed bytes [packedOffset, packedOffset + length) come from. */
export function sliceRanges(ranges: readonly SourceRange[], packedOffset: number, length: number): SourceRange[] {
  const out: SourceRange[] = [];
  let cursor = 0;
  const end = packedOffset + length;
  for (const r of ranges) {
    const rEnd = cursor + r.lengthBytes;
    if (rEnd > packedOffset && cursor < end) {
      const from = Math.max(packedOffset, cursor);
      const to = Math.min(end, rEnd);
      out.push({ offsetBytes: r.offsetBytes + (from - cursor), lengthBytes: to - from });
    }
    cursor = rEnd;
    if (cursor >= end) break;
  }
  if (packedLength(out) !== length) {
    throw new ShadowError('IMAGE_CORRUPT', `Packed bytes ${packedOffset}–${end - 1} lie past the end of the stream (${cursor} bytes)`);
  }
  return out;
}

/** Packs a bit array (one boolean per block) into the manifest's base64 form. */
export function encodeBitmap(bitmap: Uint8Array): string {
  return Buffer.from(bitmap.buffer, bitmap.byteOffset, bitmap.byteLength).toString('base64');
}
