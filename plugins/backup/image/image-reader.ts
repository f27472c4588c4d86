// Opens an image for random access (header, footer, keys, trailer, manifest: all checked before anything is returned) and verifies it whole.
import { timingSafeEqual } from 'node:crypto';
import { ShadowError } from '../../../sdk/index.js';
import { decodeChunk } from './chunk-codec.js';
import type { ChunkIndexEntry } from './chunk-record.js';
import { corrupt, equalBytes, FOOTER_SIZE, HEADER_SIZE, invalidArgument, RECORD_HEADER_SIZE, tampered } from './image-format.js';
import { parseImageHeader, type ImageHeader } from './image-header.js';
import { deriveImageKeys, keyCheckMatches, type ImageKeys } from './image-keys.js';
import { openManifest } from './image-manifest.js';
import { newDigest, parseFooter, parseTrailer, validateIndex, type Trailer } from './image-trailer.js';

/** Random-access bytes of an image (a file, a buffer). */
export interface ImageSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface ImageReadOptions {
  /** Required for encrypted images; refused for unencrypted ones, so a swapped-in unencrypted image cannot pass silently. */
  passphrase?: string;
}

export interface VerifyProgress {
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly chunksDone: number;
  readonly chunkCount: number;
}

/** Reads and checks only the header, so a caller can tell an encrypted image before asking for a passphrase. */
export async function readImageHeader(source: ImageSource): Promise<ImageHeader> {
  if (source.size < HEADER_SIZE + FOOTER_SIZE) {
    throw corrupt(`the file has ${source.size} bytes, fewer than a header and a footer (${HEADER_SIZE + FOOTER_SIZE}); it is truncated or not an image`);
  }
  return parseImageHeader(await source.read(0, HEADER_SIZE));
}

export class ImageReader {
  private constructor(
    private readonly source: ImageSource,
    private readonly keys: ImageKeys | undefined,
    private readonly headerBytes: Uint8Array,
    private readonly tailBytes: Uint8Array,
    private readonly trailer: Trailer,
    readonly header: ImageHeader,
    readonly manifest: unknown,
  ) {}

  static async open(source: ImageSource, options: ImageReadOptions = {}): Promise<ImageReader> {
    const header = await readImageHeader(source);
    const headerBytes = await source.read(0, HEADER_SIZE);
    const footer = parseFooter(await source.read(source.size - FOOTER_SIZE, FOOTER_SIZE), source.size, header.imageIdBytes);
    const manifestEnd = HEADER_SIZE + header.manifestStoredLength;
    if (manifestEnd > footer.trailerOffset) throw corrupt(`the manifest ends at byte ${manifestEnd}, after the trailer's start at byte ${footer.trailerOffset}`);
    const keys = await unlock(header, options.passphrase);
    const tailBytes = await source.read(footer.trailerOffset, footer.trailerLength + FOOTER_SIZE);
    const trailer = parseTrailer(tailBytes.subarray(0, footer.trailerLength), keys?.macKey);
    if (!equalBytes(trailer.manifestSha256, header.manifestSha256)) throw corrupt('the manifest SHA-256 in the trailer differs from the one in the header');
    validateIndex(trailer.entries, { manifestEnd, trailerOffset: footer.trailerOffset, chunkSizeBytes: header.chunkSizeBytes, encrypted: header.encrypted });
    const plainSum = trailer.entries.reduce((sum, entry) => sum + entry.plainLength, 0);
    if (plainSum !== trailer.totalPlainBytes) throw corrupt(`the trailer says ${trailer.totalPlainBytes} plain bytes but its chunks add up to ${plainSum}`);
    const manifest = openManifest(header, headerBytes, await source.read(HEADER_SIZE, header.manifestStoredLength), keys?.manifestKey);
    return new ImageReader(source, keys, headerBytes, tailBytes, trailer, header, manifest);
  }

  get chunks(): readonly ChunkIndexEntry[] {
    return this.trailer.entries;
  }

  get totalPlainBytes(): number {
    return this.trailer.totalPlainBytes;
  }

  /** The verified plain data of chunk `index`. */
  async readChunk(index: number): Promise<Uint8Array> {
    const entry = this.trailer.entries[index];
    if (!Number.isInteger(index) || !entry) {
      throw invalidArgument(`Cannot read chunk ${index} of image ${this.header.imageId}: it has chunks 0–${this.trailer.entries.length - 1}`);
    }
    return decodeChunk(this.keys?.chunk, entry, await this.source.read(entry.fileOffset, RECORD_HEADER_SIZE + entry.storedLength));
  }

  /** Reads the whole image once: every chunk decoded and checked, then the digest over everything before the trailer. */
  async verify(onProgress?: (progress: VerifyProgress) => void): Promise<void> {
    const trailerOffset = this.source.size - this.tailBytes.length;
    const now = await this.source.read(0, HEADER_SIZE);
    const nowTail = await this.source.read(trailerOffset, this.tailBytes.length);
    if (!equalBytes(now, this.headerBytes) || !equalBytes(nowTail, this.tailBytes)) {
      throw corrupt('the header or trailer changed since the image was opened; open it again');
    }
    const digest = newDigest(this.keys?.macKey);
    const front = await this.source.read(0, HEADER_SIZE + this.header.manifestStoredLength);
    openManifest(this.header, front.subarray(0, HEADER_SIZE), front.subarray(HEADER_SIZE), this.keys?.manifestKey);
    digest.update(front);
    let bytesDone = front.length;
    const report = (chunksDone: number) =>
      onProgress?.({ bytesDone, bytesTotal: trailerOffset, chunksDone, chunkCount: this.trailer.entries.length });
    report(0);
    for (const entry of this.trailer.entries) {
      const record = await this.source.read(entry.fileOffset, RECORD_HEADER_SIZE + entry.storedLength);
      decodeChunk(this.keys?.chunk, entry, record);
      digest.update(record);
      bytesDone += record.length;
      report(entry.index + 1);
    }
    const computed = digest.digest();
    if (!timingSafeEqual(computed, this.trailer.imageDigest)) {
      if (this.keys) throw tampered('the bytes before the trailer do not match the image HMAC-SHA-256');
      throw corrupt('the bytes before the trailer do not match the image SHA-256 in the trailer');
    }
  }
}

async function unlock(header: ImageHeader, passphrase: string | undefined): Promise<ImageKeys | undefined> {
  if (!header.encrypted) {
    if (passphrase !== undefined) {
      throw invalidArgument(`Cannot open image ${header.imageId} with a passphrase: it is not encrypted; open it without one if an unencrypted image is expected`);
    }
    return undefined;
  }
  if (passphrase === undefined) throw invalidArgument(`Cannot open image ${header.imageId}: it is encrypted and no passphrase was given; pass its passphrase`);
  const keys = await deriveImageKeys(passphrase, header.salt, header.kdf!, header.imageIdBytes);
  if (!keyCheckMatches(keys, header.keyCheck)) {
    throw new ShadowError('WRONG_PASSPHRASE', `Cannot open image ${header.imageId}: the passphrase does not match its key-check value; try the passphrase the image was made with`);
  }
  return keys;
}
