// The fixed 256-byte header at offset 0: identity, chunk size, KDF parameters and the manifest's size and hash, sealed by its own SHA-256.
import { createHash } from 'node:crypto';
import {
  ascii, corrupt, equalBytes, FLAG_COMPRESSED, FLAG_ENCRYPTED, FORMAT_VERSION, HEADER_SIZE, hex, IMAGE_MAGIC,
  MAX_CHUNK_SIZE, MAX_COMPRESSION_LEVEL, MAX_MANIFEST_BYTES, MIN_CHUNK_SIZE, readU64, view, writeAscii, writeU64,
} from './image-format.js';
import { kdfFromHeader, type KdfParams } from './image-keys.js';

const HASHED_BYTES = 224;
export const MANIFEST_ENCODING_RAW = 0;
export const MANIFEST_ENCODING_ZSTD = 1;

export interface ImageHeader {
  readonly formatVersion: number;
  readonly imageId: string;
  readonly imageIdBytes: Uint8Array;
  readonly createdAtMs: number;
  readonly chunkSizeBytes: number;
  readonly compressed: boolean;
  readonly compressionLevel: number;
  readonly encrypted: boolean;
  /** Set when encrypted. */
  readonly kdf: KdfParams | undefined;
  readonly salt: Uint8Array;
  readonly keyCheck: Uint8Array;
  readonly manifestStoredLength: number;
  readonly manifestPlainLength: number;
  readonly manifestEncoding: number;
  /** SHA-256 of the manifest's UTF-8 JSON; all zeros when encrypted. */
  readonly manifestSha256: Uint8Array;
}

export function encodeImageHeader(header: ImageHeader): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE);
  const dv = view(bytes);
  writeAscii(bytes, 0, IMAGE_MAGIC);
  dv.setUint16(8, FORMAT_VERSION, true);
  dv.setUint16(10, HEADER_SIZE, true);
  dv.setUint32(12, (header.compressed ? FLAG_COMPRESSED : 0) | (header.encrypted ? FLAG_ENCRYPTED : 0), true);
  bytes.set(header.imageIdBytes, 16);
  writeU64(dv, 32, header.createdAtMs);
  dv.setUint32(40, header.chunkSizeBytes, true);
  bytes[44] = 1; // compression algorithm: zstd
  bytes[45] = header.compressionLevel;
  if (header.kdf) {
    bytes[48] = 1; // KDF: scrypt
    bytes[49] = Math.log2(header.kdf.N);
    dv.setUint32(52, header.kdf.r, true);
    dv.setUint32(56, header.kdf.p, true);
  }
  bytes.set(header.salt, 64);
  bytes.set(header.keyCheck, 96);
  writeU64(dv, 128, header.manifestStoredLength);
  writeU64(dv, 136, header.manifestPlainLength);
  bytes[144] = header.manifestEncoding;
  bytes.set(header.manifestSha256, 160);
  bytes.set(headerSha256(bytes), HASHED_BYTES);
  return bytes;
}

function headerSha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes.subarray(0, HASHED_BYTES)).digest();
}

/** Parses and checks the header; every failure is IMAGE_CORRUPT (the header's hash is not keyed). */
export function parseImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < HEADER_SIZE) throw corrupt(`the file has ${bytes.length} bytes, fewer than the ${HEADER_SIZE}-byte header`);
  const magic = ascii(bytes.subarray(0, 8));
  if (magic !== IMAGE_MAGIC) throw corrupt(`it starts with '${magic}', expected the magic '${IMAGE_MAGIC}' of a Shadowdisk image`);
  const dv = view(bytes);
  const version = dv.getUint16(8, true);
  if (version !== FORMAT_VERSION) {
    throw corrupt(`format version is ${version}, this Shadowdisk reads version ${FORMAT_VERSION} (a newer version needs a newer Shadowdisk)`);
  }
  const headerSize = dv.getUint16(10, true);
  if (headerSize !== HEADER_SIZE) throw corrupt(`header size is ${headerSize} bytes, expected ${HEADER_SIZE}`);
  const computed = headerSha256(bytes);
  const stored = bytes.subarray(HASHED_BYTES, HEADER_SIZE);
  if (!equalBytes(computed, stored)) throw corrupt(`the header's SHA-256 is ${hex(stored)} but its bytes give ${hex(computed)}`);
  const flags = dv.getUint32(12, true);
  if ((flags & ~(FLAG_COMPRESSED | FLAG_ENCRYPTED)) !== 0) throw corrupt(`header flags are 0x${flags.toString(16)}, expected only bits 0–1`);
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  const chunkSizeBytes = dv.getUint32(40, true);
  if (chunkSizeBytes < MIN_CHUNK_SIZE || chunkSizeBytes > MAX_CHUNK_SIZE) {
    throw corrupt(`chunk size is ${chunkSizeBytes} bytes, expected ${MIN_CHUNK_SIZE}–${MAX_CHUNK_SIZE}`);
  }
  if (bytes[44] !== 1) throw corrupt(`compression algorithm is ${bytes[44]}, expected 1 (zstd)`);
  const compressionLevel = bytes[45]!;
  if (compressionLevel > MAX_COMPRESSION_LEVEL) throw corrupt(`compression level is ${compressionLevel}, expected 0–${MAX_COMPRESSION_LEVEL}`);
  const kdfId = bytes[48]!;
  if (kdfId !== (encrypted ? 1 : 0)) throw corrupt(`KDF algorithm is ${kdfId}, expected ${encrypted ? '1 (scrypt) for an encrypted' : '0 for an unencrypted'} image`);
  const kdf = encrypted ? kdfFromHeader({ N: 2 ** bytes[49]!, r: dv.getUint32(52, true), p: dv.getUint32(56, true) }) : undefined;
  const manifestStoredLength = readU64(dv, 128, 'the manifest stored length');
  const manifestPlainLength = readU64(dv, 136, 'the manifest length');
  if (manifestPlainLength > MAX_MANIFEST_BYTES) throw corrupt(`the manifest is ${manifestPlainLength} bytes, more than the ${MAX_MANIFEST_BYTES} allowed`);
  const manifestEncoding = bytes[144]!;
  if (manifestEncoding !== MANIFEST_ENCODING_RAW && manifestEncoding !== MANIFEST_ENCODING_ZSTD) {
    throw corrupt(`manifest encoding is ${manifestEncoding}, expected 0 (raw) or 1 (zstd)`);
  }
  const imageIdBytes = bytes.slice(16, 32);
  return {
    formatVersion: version,
    imageId: hex(imageIdBytes),
    imageIdBytes,
    createdAtMs: readU64(dv, 32, 'the creation time'),
    chunkSizeBytes,
    compressed: (flags & FLAG_COMPRESSED) !== 0,
    compressionLevel,
    encrypted,
    kdf,
    salt: bytes.slice(64, 96),
    keyCheck: bytes.slice(96, 128),
    manifestStoredLength,
    manifestPlainLength,
    manifestEncoding,
    manifestSha256: bytes.slice(160, 192),
  };
}
