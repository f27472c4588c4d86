// Constants of the Shadowdisk image container (docs/image-format.md) and the little-endian byte helpers every region codec shares.
import { ShadowError } from '../../../sdk/index.js';

export const IMAGE_MAGIC = 'SHDWIMG1';
export const FOOTER_MAGIC = 'SHDWEND1';
export const RECORD_MAGIC = 'SDCK';
export const TRAILER_MAGIC = 'SDTR';
export const FORMAT_VERSION = 1;

export const HEADER_SIZE = 256;
export const RECORD_HEADER_SIZE = 80;
export const INDEX_ENTRY_SIZE = 64;
export const TRAILER_FIXED_SIZE = 88;
export const DIGEST_SIZE = 32;
export const FOOTER_SIZE = 48;
export const GCM_TAG_SIZE = 16;
/** Encrypted payloads carry the plain SHA-256 inside the ciphertext, followed by the GCM tag. */
export const ENCRYPTION_OVERHEAD = DIGEST_SIZE + GCM_TAG_SIZE;

export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
export const MIN_CHUNK_SIZE = 4096;
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024;
export const DEFAULT_COMPRESSION_LEVEL = 3;
export const MAX_COMPRESSION_LEVEL = 19;
/** A manifest is parsed as one JavaScript string, whose length V8 caps near 512 MiB. */
export const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

export const FLAG_COMPRESSED = 1;
export const FLAG_ENCRYPTED = 2;
export const RECORD_FLAG_ENCRYPTED = 1;

export type ChunkKind = 'zero' | 'raw' | 'zstd';
export const CHUNK_KIND_CODES: Readonly<Record<ChunkKind, number>> = { zero: 0, raw: 1, zstd: 2 };
export const CHUNK_KINDS: readonly ChunkKind[] = ['zero', 'raw', 'zstd'];

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads a u64 that must fit a JavaScript number; `what` names the field in the error. */
export function readU64(dv: DataView, offset: number, what: string): number {
  const value = dv.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${what} is ${value}, beyond any image`);
  return Number(value);
}

export function writeU64(dv: DataView, offset: number, value: number): void {
  dv.setBigUint64(offset, BigInt(value), true);
}

export function ascii(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

export function writeAscii(target: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) target[offset + i] = text.charCodeAt(i);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

const RESTORE_HINT = 'use another copy of the image';

/** Structural damage or an unkeyed check failing: truncation, bad magic, bad CRC or SHA-256, a chunk out of place. */
export function corrupt(problem: string, details?: Record<string, unknown>): ShadowError {
  return new ShadowError('IMAGE_CORRUPT', `The image is damaged: ${problem}; ${RESTORE_HINT}`, details ? { details } : {});
}

/** A keyed check failing: a GCM tag or an HMAC; the bytes were changed by someone without the passphrase, or damaged. */
export function tampered(problem: string, details?: Record<string, unknown>): ShadowError {
  return new ShadowError(
    'IMAGE_TAMPERED',
    `The image failed authentication: ${problem}; it was modified or damaged after it was written, ${RESTORE_HINT}`,
    details ? { details } : {},
  );
}

export function invalidArgument(message: string): ShadowError {
  return new ShadowError('INVALID_ARGUMENT', message);
}
