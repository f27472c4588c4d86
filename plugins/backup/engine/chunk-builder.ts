// Packs a stream's included bytes into chunks of the image's chunk size, handing each chunk on. Whole segments can be
// pushed as units: a unit never straddles two chunks (the chunk is emitted early instead), so a worker can hash each
// segment from the one chunk that holds it.
import type { SourceRange } from './packed-stream.js';

/** A segment packed whole into a chunk: where its bytes sit in the chunk, and where they lie in the stream. */
export interface SegmentSpan {
  readonly segment: number;
  /** Relative to the stream's start, as hashSegment takes them. */
  readonly ranges: readonly SourceRange[];
  readonly start: number;
  readonly length: number;
}

export type ChunkEmitter = (streamId: number, offsetBytes: number, plain: Uint8Array, spans: readonly SegmentSpan[]) => Promise<void>;

export class ChunkBuilder {
  private buffer: Uint8Array;
  private filled = 0;
  private packedOffset = 0;
  private spans: SegmentSpan[] = [];

  /** `allocate` gives a chunk-sized buffer, ideally a recycled one: fresh multi-MiB buffers cost a page fault per 4 KiB. */
  constructor(
    private readonly streamId: number,
    private readonly chunkSize: number,
    private readonly emit: ChunkEmitter,
    private readonly allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size),
  ) {
    this.buffer = allocate(chunkSize);
  }

  /** Bytes that may be split across chunks. */
  async push(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(bytes.length - at, this.chunkSize - this.filled);
      this.buffer.set(bytes.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.chunkSize) await this.flush();
    }
  }

  /** One segment's pieces, kept together in one chunk (a segment is never larger than a chunk). */
  async pushSegment(segment: number, ranges: readonly SourceRange[], pieces: readonly Uint8Array[]): Promise<void> {
    const length = pieces.reduce((n, p) => n + p.length, 0);
    if (length > this.chunkSize) throw new RangeError(`Segment ${segment} holds ${length} bytes, more than a chunk (${this.chunkSize})`);
    if (this.filled + length > this.chunkSize) await this.flush();
    this.spans.push({ segment, ranges, start: this.filled, length });
    for (const piece of pieces) {
      this.buffer.set(piece, this.filled);
      this.filled += piece.length;
    }
    if (this.filled === this.chunkSize) await this.flush();
  }

  /** Emits what is buffered (a chunk cut short before a segment, or the stream's last chunk). */
  async flush(): Promise<void> {
    if (this.filled === 0) return;
    const plain = this.filled === this.chunkSize ? this.buffer : this.buffer.slice(0, this.filled);
    const offset = this.packedOffset;
    const spans = this.spans;
    this.packedOffset += this.filled;
    this.filled = 0;
    this.spans = [];
    // The emitted buffer is transferred to a worker, so the next chunk needs another one.
    this.buffer = this.allocate(this.chunkSize);
    await this.emit(this.streamId, offset, plain, spans);
  }

  get bytesPacked(): number {
    return this.packedOffset + this.filled;
  }
}
