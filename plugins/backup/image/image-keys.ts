// Keys of an encrypted image: scrypt turns the passphrase into a master key, HKDF splits it into one key per purpose.
import { createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ShadowError } from '../../../sdk/index.js';
import { corrupt, invalidArgument } from './image-format.js';

export interface KdfParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** 2^17 × 8 × 128 bytes = 128 MiB of memory per derivation. */
export const DEFAULT_KDF: KdfParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
export const SALT_SIZE = 32;
/** A crafted header must not make a reader allocate without bound. */
const MAX_KDF_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;

/** What a chunk encoder needs: plain data, safe to post to a worker thread. */
export interface ChunkKeys {
  readonly imageId: Uint8Array;
  readonly chunkKey: Uint8Array;
}

export interface ImageKeys {
  readonly chunk: ChunkKeys;
  readonly manifestKey: Uint8Array;
  readonly macKey: Uint8Array;
  readonly keyCheck: Uint8Array;
}

/** Returns the problem with a set of scrypt parameters, or undefined when they are usable. */
export function kdfProblem(kdf: KdfParams): string | undefined {
  const { N, r, p } = kdf;
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 30) return `N is ${N}, expected a power of two from 2 to 2^30`;
  if (!Number.isInteger(r) || r < 1 || r > 64) return `r is ${r}, expected 1–64`;
  if (!Number.isInteger(p) || p < 1 || p > 64) return `p is ${p}, expected 1–64`;
  if (scryptMemoryBytes(kdf) > MAX_KDF_MEMORY_BYTES) return `N=${N}, r=${r} needs ${scryptMemoryBytes(kdf) >> 20} MiB, more than the 2048 MiB allowed`;
  return undefined;
}

export function validateKdf(kdf: KdfParams): KdfParams {
  const problem = kdfProblem(kdf);
  if (problem) throw invalidArgument(`Cannot create image: scrypt parameter ${problem}; pass smaller KDF parameters or leave the defaults`);
  return kdf;
}

export function scryptMemoryBytes(kdf: KdfParams): number {
  return 128 * kdf.N * kdf.r + 128 * kdf.r * kdf.p;
}

export function newSalt(): Uint8Array {
  return new Uint8Array(randomBytes(SALT_SIZE));
}

/** Derives every key of an image; slow by design (scrypt), and off the event loop. */
export async function deriveImageKeys(passphrase: string, salt: Uint8Array, kdf: KdfParams, imageId: Uint8Array): Promise<ImageKeys> {
  if (passphrase.length === 0) throw invalidArgument('Cannot use an empty passphrase: give at least one character');
  const master = await new Promise<Buffer>((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { ...kdf, maxmem: scryptMemoryBytes(kdf) + (1 << 20) }, (error, key) =>
      error ? reject(new ShadowError('INTERNAL', `scrypt failed: ${error.message}`, { cause: error })) : resolve(key),
    );
  });
  const derive = (purpose: string) => new Uint8Array(hkdfSync('sha256', master, imageId, `shadowdisk image v1 ${purpose}`, 32));
  const keys: ImageKeys = {
    chunk: { imageId: Uint8Array.from(imageId), chunkKey: derive('chunk') },
    manifestKey: derive('manifest'),
    macKey: derive('mac'),
    keyCheck: derive('key check'),
  };
  master.fill(0);
  return keys;
}

export function keyCheckMatches(keys: ImageKeys, stored: Uint8Array): boolean {
  return timingSafeEqual(keys.keyCheck, stored);
}

export function hmac(key: Uint8Array): ReturnType<typeof createHmac> {
  return createHmac('sha256', key);
}

/** Checks scrypt parameters read from a header, which a damaged or crafted file could set to anything. */
export function kdfFromHeader(kdf: KdfParams): KdfParams {
  const problem = kdfProblem(kdf);
  if (problem) throw corrupt(`the header's scrypt parameter ${problem}`);
  return kdf;
}
