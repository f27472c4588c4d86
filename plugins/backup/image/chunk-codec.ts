// Encodes and decodes one chunk record: zero detection, zstd (raw when it does not help), SHA-256, optional AES-256-GCM. Pure and synchronous, so it runs in worker threads.
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { native } from '../../../native/load.js';
import { checkRecordMatchesEntry, encodeRecordHeader, parseRecordHeader, RECORD_AAD_BYTES, type ChunkIndexEntry, type ChunkRecordFields } from './chunk-record.js';
import {
  corrupt, DIGEST_SIZE, ENCRYPTION_OVERHEAD, equalBytes, GCM_TAG_SIZE, hex, invalidArgument, MAX_CHUNK_SIZE,
  MAX_COMPRESSION_LEVEL, RECORD_HEADER_SIZE, tampered, type ChunkKind,
} from './image-format.js';
import type { ChunkKeys } from './image-keys.js';

export interface ChunkMeta {
  readonly index: number;
  readonly streamId: number;
  readonly offsetBytes: number;
}

/** A chunk ready to append: the record bytes (header and payload) plus the fields of its index entry. */
export interface EncodedChunk extends ChunkRecordFields {
  readonly record: Uint8Array;
}

const NO_HASH = new Uint8Array(DIGEST_SIZE);

/** The most bytes a chunk record of `plainLength` plain bytes can take (raw, encrypted). */
export function maxRecordLength(plainLength: number): number {
  return RECORD_HEADER_SIZE + plainLength + ENCRYPTION_OVERHEAD;
}

/**
 * Encodes one chunk into a record. With `out` (at least maxRecordLength(plain.length) bytes, e.g. a record buffer
 * the caller recycles), the record is a view at its start; otherwise a new buffer.
 */
export function encodeChunk(keys: ChunkKeys | undefined, meta: ChunkMeta, plain: Uint8Array, level: number, out?: Uint8Array): EncodedChunk {
  checkMeta(meta);
  if (plain.length === 0 || plain.length > MAX_CHUNK_SIZE) throw invalidArgument(`Cannot encode chunk ${meta.index}: it has ${plain.length} bytes, expected 1–${MAX_CHUNK_SIZE}`);
  if (!Number.isInteger(level) || level < 0 || level > MAX_COMPRESSION_LEVEL) {
    throw invalidArgument(`Cannot encode chunk ${meta.index}: compression level is ${level}, expected 0 (none) to ${MAX_COMPRESSION_LEVEL}`);
  }
  const plainSha256 = sha256(plain);
  const zero = isAllZero(plain);
  const encrypted = keys !== undefined && !zero;
  const bodyStart = RECORD_HEADER_SIZE + (encrypted ? DIGEST_SIZE : 0);
  const buffer = out && out.length >= maxRecordLength(plain.length) ? out : new Uint8Array(maxRecordLength(plain.length));
  let kind: ChunkKind = 'zero';
  let body: Uint8Array = new Uint8Array(0);
  if (!zero) {
    // zstd straight into the record, kept only when it is smaller than the plain data.
    const packed = level > 0 ? native().zstdCompressInto(plain, buffer, bodyStart, plain.length - 1, level) : -1;
    [kind, body] = packed > 0 ? ['zstd', buffer.subarray(bodyStart, bodyStart + packed)] : ['raw', plain];
  }
  const fields: ChunkRecordFields = {
    ...meta,
    plainLength: plain.length,
    storedLength: encrypted ? body.length + ENCRYPTION_OVERHEAD : body.length,
    kind,
    encrypted,
    plainSha256: keys ? NO_HASH : plainSha256,
  };
  const record = buffer.subarray(0, RECORD_HEADER_SIZE + fields.storedLength);
  encodeRecordHeader(fields, record);
  if (!encrypted) {
    if (kind === 'raw') record.set(body, RECORD_HEADER_SIZE);
  } else {
    const cipher = createCipheriv('aes-256-gcm', keys.chunkKey, chunkNonce(keys.imageId, meta.index));
    cipher.setAAD(chunkAad(keys.imageId, record));
    // The digest, then the body (which may already sit in the record: cipher.update returns new bytes).
    record.set(cipher.update(plainSha256), RECORD_HEADER_SIZE);
    record.set(cipher.update(body), RECORD_HEADER_SIZE + DIGEST_SIZE);
    cipher.final();
    record.set(cipher.getAuthTag(), record.length - GCM_TAG_SIZE);
  }
  return { ...fields, record };
}

/** Decodes a record read at `entry.fileOffset` (header and payload) into its verified plain data. */
export function decodeChunk(keys: ChunkKeys | undefined, entry: ChunkIndexEntry, record: Uint8Array): Uint8Array {
  const fields = parseRecordHeader(record, `chunk record ${entry.index} at byte ${entry.fileOffset}`);
  checkRecordMatchesEntry(fields, entry);
  if (record.length !== RECORD_HEADER_SIZE + entry.storedLength) {
    throw corrupt(`chunk record ${entry.index} has ${record.length - RECORD_HEADER_SIZE} payload bytes, expected ${entry.storedLength}`);
  }
  if (entry.kind === 'zero') {
    const zeros = new Uint8Array(entry.plainLength);
    if (!keys) checkHash(entry, zeros, entry.plainSha256);
    return zeros;
  }
  let payload = record.subarray(RECORD_HEADER_SIZE);
  let expectedSha = entry.plainSha256;
  if (keys) {
    const decipher = createDecipheriv('aes-256-gcm', keys.chunkKey, chunkNonce(keys.imageId, entry.index));
    decipher.setAAD(chunkAad(keys.imageId, record));
    decipher.setAuthTag(payload.subarray(payload.length - GCM_TAG_SIZE));
    const inner = decipher.update(payload.subarray(0, payload.length - GCM_TAG_SIZE));
    try {
      decipher.final();
    } catch {
      throw tampered(`chunk ${entry.index} (stream ${entry.streamId}, offset ${entry.offsetBytes}) does not match its AES-GCM tag`, { chunk: entry.index });
    }
    expectedSha = inner.subarray(0, DIGEST_SIZE);
    payload = inner.subarray(DIGEST_SIZE);
  }
  let plain: Uint8Array = payload;
  if (entry.kind === 'zstd') {
    try {
      const into = new Uint8Array(entry.plainLength);
      plain = into.subarray(0, native().zstdDecompressInto(payload, into));
    } catch (error) {
      throw corrupt(`chunk ${entry.index} does not decompress (${(error as Error).message}), expected ${entry.plainLength} bytes of zstd data`, { chunk: entry.index });
    }
  }
  if (plain.length !== entry.plainLength) throw corrupt(`chunk ${entry.index} holds ${plain.length} bytes, its record says ${entry.plainLength}`, { chunk: entry.index });
  checkHash(entry, plain, expectedSha);
  return plain;
}

function checkHash(entry: ChunkIndexEntry, plain: Uint8Array, expected: Uint8Array): void {
  const computed = sha256(plain);
  if (!equalBytes(computed, expected)) {
    throw corrupt(`chunk ${entry.index} (stream ${entry.streamId}, offset ${entry.offsetBytes}) has SHA-256 ${hex(computed)}, its record says ${hex(expected)}`, { chunk: entry.index });
  }
}

/** 96-bit GCM nonce: the first 4 bytes of the image id, then the chunk index as u64 LE; the key is unique to the image, so the index alone makes it unique. */
export function chunkNonce(imageId: Uint8Array, index: number): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(imageId.subarray(0, 4), 0);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(index), true);
  return nonce;
}

function chunkAad(imageId: Uint8Array, record: Uint8Array): Uint8Array {
  const aad = new Uint8Array(16 + RECORD_AAD_BYTES);
  aad.set(imageId, 0);
  aad.set(record.subarray(0, RECORD_AAD_BYTES), 16);
  return aad;
}

function checkMeta(meta: ChunkMeta): void {
  const ok = (value: number, max: number) => Number.isInteger(value) && value >= 0 && value <= max;
  if (!ok(meta.index, Number.MAX_SAFE_INTEGER) || !ok(meta.streamId, 0xffffffff) || !ok(meta.offsetBytes, Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(`Cannot encode chunk: index ${meta.index}, stream ${meta.streamId}, offset ${meta.offsetBytes}; expected non-negative integers (stream below 2^32)`);
  }
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/** memcmp-speed zero test: the first byte is zero and every byte equals its successor. */
export function isAllZero(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes[0] !== 0) return bytes.length === 0;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.subarray(1).equals(buffer.subarray(0, buffer.length - 1));
}
