// Packs a stream's included bytes into chunks of the image's chunk size, handing each full chunk on.
export class ChunkBuilder {
  private buffer: Uint8Array;
  private filled = 0;
  private packedOffset = 0;

  constructor(private readonly streamId: number, private readonly chunkSize: number, private readonly emit: (streamId: number, offsetBytes: number, plain: Uint8Array) => Promise<void>) {
    this.buffer = new Uint8Array(chunkSize);
  }

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

  /** Emits what is buffered (the stream's last, shorter chunk). */
  async flush(): Promise<void> {
    if (this.filled === 0) return;
    const plain = this.filled === this.chunkSize ? this.buffer : this.buffer.slice(0, this.filled);
    const offset = this.packedOffset;
    this.packedOffset += this.filled;
    this.filled = 0;
    // The emitted buffer is transferred to a worker, so the next chunk needs a fresh one.
    this.buffer = new Uint8Array(this.chunkSize);
    await this.emit(this.streamId, offset, plain);
  }

  get bytesPacked(): number {
    return this.packedOffset + this.filled;
  }
}
