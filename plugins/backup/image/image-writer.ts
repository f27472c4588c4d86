// Writes an image strictly sequentially (a file or a pipe): header and manifest first, chunk records in index order, then trailer and footer.
import { randomBytes } from 'node:crypto';
import { encodeChunk, type EncodedChunk } from './chunk-codec.js';
import { parseRecordHeader, type ChunkIndexEntry } from './chunk-record.js';
import { encodeImageHeader } from './image-header.js';
import {
  DEFAULT_CHUNK_SIZE, DEFAULT_COMPRESSION_LEVEL, DIGEST_SIZE, HEADER_SIZE, hex, invalidArgument, MAX_CHUNK_SIZE,
  MAX_COMPRESSION_LEVEL, MIN_CHUNK_SIZE, RECORD_HEADER_SIZE,
} from './image-format.js';
import { DEFAULT_KDF, deriveImageKeys, newSalt, validateKdf, type ChunkKeys, type ImageKeys, type KdfParams } from './image-keys.js';
import { prepareManifest, sealManifest } from './image-manifest.js';
import { encodeFooter, encodeTrailer, newDigest, trailerLength } from './image-trailer.js';

/** Where image bytes go, in order; never asked to seek. */
export interface ImageSink {
  write(bytes: Uint8Array): Promise<void>;
}

export interface ImageOptions {
  /** Plain bytes per chunk at most; default 4 MiB, 4 KiB–64 MiB. */
  chunkSize?: number;
  /** zstd level 1–19, or 0 to store chunks raw; default 3. */
  compressionLevel?: number;
  /** Encrypts the manifest and the chunks and authenticates the whole image when given. */
  passphrase?: string;
  /** scrypt parameters; default N=2^17, r=8, p=1 (128 MiB). */
  kdf?: KdfParams;
}

export interface ImageWriteResult {
  readonly chunkCount: number;
  readonly bytesWritten: number;
  readonly imageId: string;
}

const ZERO_DIGEST = new Uint8Array(DIGEST_SIZE);

export class ImageWriter {
  private readonly entries: ChunkIndexEntry[] = [];
  private readonly streamEnds = new Map<number, number>();
  private readonly digest;
  private tail: Promise<void> = Promise.resolve();
  private bytesWritten = 0;
  private finished = false;

  private constructor(
    private readonly sink: ImageSink,
    private readonly imageIdBytes: Uint8Array,
    private readonly keys: ImageKeys | undefined,
    private readonly manifestSha256: Uint8Array,
    readonly chunkSizeBytes: number,
    readonly compressionLevel: number,
  ) {
    this.digest = newDigest(keys?.macKey);
  }

  /** Derives the keys (scrypt, when a passphrase is given) and writes the header and the manifest. */
  static async create(sink: ImageSink, manifest: unknown, options: ImageOptions = {}): Promise<ImageWriter> {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw invalidArgument(`Cannot create image: chunk size is ${chunkSize} bytes, expected an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`);
    }
    const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
    if (!Number.isInteger(level) || level < 0 || level > MAX_COMPRESSION_LEVEL) {
      throw invalidArgument(`Cannot create image: compression level is ${level}, expected 0 (none) to ${MAX_COMPRESSION_LEVEL}`);
    }
    const { passphrase } = options;
    if (passphrase === undefined && options.kdf) throw invalidArgument('Cannot create image: KDF parameters were given without a passphrase; give both or neither');
    const kdf = passphrase === undefined ? undefined : validateKdf(options.kdf ?? DEFAULT_KDF);
    const imageId = new Uint8Array(randomBytes(16));
    const salt = kdf ? newSalt() : new Uint8Array(32);
    const keys = kdf && passphrase !== undefined ? await deriveImageKeys(passphrase, salt, kdf, imageId) : undefined;
    const prepared = prepareManifest(manifest, level);
    const header = encodeImageHeader({
      formatVersion: 1,
      imageId: hex(imageId),
      imageIdBytes: imageId,
      createdAtMs: Date.now(),
      chunkSizeBytes: chunkSize,
      compressed: level > 0,
      compressionLevel: level,
      encrypted: keys !== undefined,
      kdf,
      salt,
      keyCheck: keys?.keyCheck ?? new Uint8Array(32),
      manifestStoredLength: prepared.body.length + (keys ? 16 : 0),
      manifestPlainLength: prepared.plainLength,
      manifestEncoding: prepared.encoding,
      manifestSha256: keys ? ZERO_DIGEST : prepared.sha256,
    });
    const storedManifest = keys ? sealManifest(prepared.body, keys.manifestKey, header) : prepared.body;
    const writer = new ImageWriter(sink, imageId, keys, keys ? ZERO_DIGEST : prepared.sha256, chunkSize, level);
    const first = new Uint8Array(HEADER_SIZE + storedManifest.length);
    first.set(header, 0);
    first.set(storedManifest, HEADER_SIZE);
    await writer.enqueue(first);
    return writer;
  }

  get imageId(): string {
    return hex(this.imageIdBytes);
  }

  get encrypted(): boolean {
    return this.keys !== undefined;
  }

  /** The index the next appended chunk must carry. */
  get nextIndex(): number {
    return this.entries.length;
  }

  /** What encodeChunk needs for this image, as plain data to post to worker threads; undefined when not encrypted. */
  keysForWorkers(): ChunkKeys | undefined {
    return this.keys ? { imageId: Uint8Array.from(this.keys.chunk.imageId), chunkKey: Uint8Array.from(this.keys.chunk.chunkKey) } : undefined;
  }

  /** Encodes on this thread and appends: for callers without workers. */
  async append(streamId: number, offsetBytes: number, plain: Uint8Array): Promise<void> {
    return this.appendEncoded(encodeChunk(this.keys?.chunk, { index: this.nextIndex, streamId, offsetBytes }, plain, this.compressionLevel));
  }

  /** Appends a chunk encoded by encodeChunk with this image's keys; chunks must come in index order (checked at call time, before any await). */
  async appendEncoded(chunk: EncodedChunk): Promise<void> {
    this.checkChunk(chunk);
    // The index keeps the fields only: holding `record` here would keep every chunk of the image in memory.
    const { record, ...fields } = chunk;
    this.entries.push({ ...fields, fileOffset: this.bytesWritten, plainSha256: Uint8Array.from(chunk.plainSha256) });
    void record;
    this.streamEnds.set(chunk.streamId, chunk.offsetBytes + chunk.plainLength);
    return this.enqueue(chunk.record);
  }

  /** Writes the trailer (chunk index and digests) and the footer; the image is complete once this resolves. */
  async finish(): Promise<ImageWriteResult> {
    if (this.finished) throw invalidArgument(`Cannot finish image ${this.imageId}: it is already finished`);
    this.finished = true;
    await this.tail;
    const trailerOffset = this.bytesWritten;
    const trailer = encodeTrailer({ imageDigest: this.digest.digest(), manifestSha256: this.manifestSha256, entries: this.entries }, this.keys?.macKey);
    const footer = encodeFooter({ trailerOffset, trailerLength: trailerLength(this.entries.length) }, this.imageIdBytes);
    const last = new Uint8Array(trailer.length + footer.length);
    last.set(trailer, 0);
    last.set(footer, trailer.length);
    await this.sink.write(last);
    this.bytesWritten += last.length;
    return { chunkCount: this.entries.length, bytesWritten: this.bytesWritten, imageId: this.imageId };
  }

  /** State changes happen at call time (so order is call order); writes are chained so the sink sees one write at a time. */
  private enqueue(bytes: Uint8Array): Promise<void> {
    this.digest.update(bytes);
    this.bytesWritten += bytes.length;
    this.tail = this.tail.then(() => this.sink.write(bytes));
    return this.tail;
  }

  private checkChunk(chunk: EncodedChunk): void {
    const what = `Cannot append chunk ${chunk.index} to image ${this.imageId}`;
    if (this.finished) throw invalidArgument(`${what}: the image is already finished`);
    if (chunk.index !== this.nextIndex) throw invalidArgument(`${what}: the next chunk must be ${this.nextIndex}; append chunks in index order`);
    let record;
    try {
      record = parseRecordHeader(chunk.record, `chunk ${chunk.index}`);
    } catch (error) {
      throw invalidArgument(`${what}: its record bytes are not a chunk record (${(error as Error).message}); pass encodeChunk's result unchanged`);
    }
    const mismatch = (['index', 'streamId', 'offsetBytes', 'plainLength', 'storedLength', 'kind', 'encrypted'] as const).find((f) => record[f] !== chunk[f]);
    if (mismatch || chunk.record.length !== RECORD_HEADER_SIZE + chunk.storedLength) {
      throw invalidArgument(`${what}: its record bytes disagree with its fields (${mismatch ?? 'length'}); pass encodeChunk's result unchanged`);
    }
    if (chunk.plainLength > this.chunkSizeBytes) throw invalidArgument(`${what}: it holds ${chunk.plainLength} bytes, more than the image's chunk size ${this.chunkSizeBytes}`);
    const wantEncrypted = this.keys !== undefined && chunk.kind !== 'zero';
    const leaksHash = this.keys !== undefined && chunk.plainSha256.some((b) => b !== 0);
    if (chunk.encrypted !== wantEncrypted || leaksHash) {
      throw invalidArgument(`${what}: it was encoded ${chunk.encrypted || leaksHash ? 'with' : 'without'} keys but the image is ${this.keys ? '' : 'not '}encrypted; encode with keysForWorkers()`);
    }
    const streamEnd = this.streamEnds.get(chunk.streamId) ?? 0;
    if (chunk.offsetBytes < streamEnd) {
      throw invalidArgument(`${what}: it starts stream ${chunk.streamId} at offset ${chunk.offsetBytes}, before the end ${streamEnd} of the stream's previous chunk; write each stream in ascending order`);
    }
  }
}
