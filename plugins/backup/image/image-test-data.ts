// Test data for the image tests: a manifest and several streams (random, compressible, zero, small) written into one image.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { isShadowError, type ErrorCode } from '../../../sdk/index.js';
import { ImageWriter, type ImageOptions } from './image-writer.js';
import { memoryImageSink } from './image-io.js';
import type { ImageReader } from './image-reader.js';

export const TEST_KDF = Object.freeze({ N: 2 ** 12, r: 8, p: 1 });
export const TEST_CHUNK = 64 * 1024;
export const PASSPHRASE = 'correct horse battery staple';

export interface StreamPiece {
  readonly streamId: number;
  readonly offsetBytes: number;
  readonly data: Uint8Array;
}

export const sampleManifest = {
  geometry: { sizeBytes: 1 << 30, logicalSectorSize: 512 },
  partitions: [{ number: 1, fs: 'ext4', usedBlockMap: Buffer.from('fake map').toString('base64') }],
  parentImageId: null,
  note: 'ünïcödé ✓',
};

function compressible(length: number): Uint8Array {
  const text = 'Shadowdisk compressible line of text 0123456789\n'.repeat(Math.ceil(length / 48));
  return new TextEncoder().encode(text).subarray(0, length);
}

/** Pieces in write order: each stream ascending, one gap in stream 1, a stream id near 2^32 for the disk gap. */
export function samplePieces(seed = 1): StreamPiece[] {
  const random = (n: number) => new Uint8Array(randomBytes(n).map((b, i) => b ^ ((i * seed) & 0xff)));
  return [
    { streamId: 1, offsetBytes: 0, data: random(TEST_CHUNK) },
    { streamId: 1, offsetBytes: TEST_CHUNK, data: random(TEST_CHUNK) },
    { streamId: 1, offsetBytes: 5 * TEST_CHUNK, data: random(TEST_CHUNK / 2 + 7) },
    { streamId: 2, offsetBytes: 0, data: compressible(TEST_CHUNK) },
    { streamId: 2, offsetBytes: TEST_CHUNK, data: compressible(TEST_CHUNK - 100) },
    { streamId: 3, offsetBytes: 0, data: new Uint8Array(TEST_CHUNK) },
    { streamId: 3, offsetBytes: TEST_CHUNK, data: new Uint8Array(1000) },
    { streamId: 0xfffffffe, offsetBytes: 512, data: random(1024) },
  ];
}

export async function writeImage(pieces: readonly StreamPiece[], options: ImageOptions, manifest: unknown = sampleManifest): Promise<Uint8Array> {
  const sink = memoryImageSink();
  const writer = await ImageWriter.create(sink, manifest, { chunkSize: TEST_CHUNK, ...options });
  for (const piece of pieces) await writer.append(piece.streamId, piece.offsetBytes, piece.data);
  await writer.finish();
  return sink.bytes();
}

export function encryptedOptions(): ImageOptions {
  return { passphrase: PASSPHRASE, kdf: TEST_KDF };
}

export function flipByte(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[offset]! ^= 0x01;
  return copy;
}

/** Runs the promise and expects a ShadowError with `code`; returns the message, which tests also check for shape. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isShadowError(error)) throw new Error(`Expected ShadowError ${code}, got ${error === undefined ? 'success' : String(error)}`);
  if (process.env.SHOW_IMAGE_ERRORS) console.log(`${code}: ${error.message}`); // SHOW_IMAGE_ERRORS=1 prints every message, to review their wording
  expect(error.code, error.message).toBe(code);
  expect(error.message).toMatch(/^[A-Z]/);
  expect(error.message).not.toMatch(/\.$/);
  return error.message;
}

/** Everything a restore would touch: each chunk read by random access, then a full verify. */
export async function readEverything(reader: ImageReader): Promise<void> {
  for (let i = 0; i < reader.chunks.length; i++) await reader.readChunk(i);
  await reader.verify();
}
