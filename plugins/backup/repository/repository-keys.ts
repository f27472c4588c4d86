// The repository key and what seals every object with it. A random 32-byte master key is wrapped (AES-256-GCM) under
// a key scrypt derives from a passphrase; each passphrase has its own key file under keys/. From the master key, HKDF
// derives the encryption key, the chunk-id key (HMAC-SHA-256 names chunks, so names say nothing of the plaintext) and
// the chunker's gear seed.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, scrypt, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { ShadowError } from '../../../sdk/index.js';
import { DEFAULT_KDF, kdfProblem, scryptMemoryBytes, type KdfParams } from '../image/image-keys.js';

export interface KeyFile {
  version: 1;
  createdAt: string;
  host: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** base64 of nonce (12) | AES-256-GCM of the master key | tag (16). */
  wrappedKey: string;
}

export interface RepositoryKeys {
  /** Seals objects (AES-256-GCM). */
  readonly encryption: Buffer;
  /** Names chunks: HMAC-SHA-256(chunkId, plain). */
  readonly chunkId: Buffer;
  readonly gearSeed: Buffer;
  /** Derives nonces from content (SIV-style) for chunks and pack headers: see sealDeterministic. */
  readonly nonce: Buffer;
  /** Bytes of a chunk id: the first `idBytes` of the keyed hash (16 in format 2 repositories, 32 in format 1). */
  readonly idBytes: number;
}

const NONCE = 12;
const TAG = 16;

// A key imported once per key buffer: handing node:crypto a Buffer imports it again on every call, which costs more
// than sealing or hashing a small chunk.
const imported = new WeakMap<Buffer, KeyObject>();
function keyOf(key: Buffer): KeyObject {
  let object = imported.get(key);
  if (!object) imported.set(key, (object = createSecretKey(key)));
  return object;
}

async function passphraseKey(passphrase: string, salt: Buffer, kdf: KdfParams): Promise<Buffer> {
  if (passphrase.length === 0) throw new ShadowError('INVALID_ARGUMENT', 'Cannot use an empty passphrase: give at least one character');
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { ...kdf, maxmem: scryptMemoryBytes(kdf) + (1 << 20) }, (error, key) => (error ? reject(ShadowError.from(error)) : resolve(key)));
  });
}

export function seal(key: Buffer, plain: Uint8Array, aad: string | Uint8Array, nonce: Uint8Array = randomBytes(NONCE)): Buffer {
  const cipher = createCipheriv('aes-256-gcm', keyOf(key), nonce);
  cipher.setAAD(typeof aad === 'string' ? Buffer.from(aad) : aad);
  return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** Decrypts and authenticates; IMAGE_TAMPERED names `what` when a byte was changed or the key is another's. */
export function unseal(key: Buffer, sealed: Uint8Array, aad: string | Uint8Array, what: string): Buffer {
  if (sealed.length < NONCE + TAG) throw new ShadowError('IMAGE_CORRUPT', `${what} is ${sealed.length} bytes, too short to be a sealed object`, { details: { object: what } });
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(key), sealed.subarray(0, NONCE));
    decipher.setAAD(typeof aad === 'string' ? Buffer.from(aad) : aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([decipher.update(sealed.subarray(NONCE, sealed.length - TAG)), decipher.final()]);
  } catch (error) {
    throw new ShadowError('IMAGE_TAMPERED', `${what} fails authentication: it was changed or damaged after it was written`, { cause: error, details: { object: what } });
  }
}

export async function newKeyFile(passphrase: string, kdf: KdfParams = DEFAULT_KDF): Promise<{ file: KeyFile; master: Buffer }> {
  const problem = kdfProblem(kdf);
  if (problem) throw new ShadowError('INVALID_ARGUMENT', `Cannot create the repository key: scrypt parameter ${problem}`);
  const salt = randomBytes(32);
  const master = randomBytes(32);
  const wrapping = await passphraseKey(passphrase, salt, kdf);
  const file: KeyFile = { version: 1, createdAt: new Date().toISOString(), host: hostname(), kdf: { name: 'scrypt', ...kdf, salt: salt.toString('base64') }, wrappedKey: seal(wrapping, master, 'shadowdisk repository key').toString('base64') };
  return { file, master };
}

/** The master key from a key file, or undefined when the passphrase is not this file's. */
export async function unwrapKey(file: KeyFile, passphrase: string): Promise<Buffer | undefined> {
  const kdf = { N: file.kdf.N, r: file.kdf.r, p: file.kdf.p };
  const problem = kdfProblem(kdf);
  if (file.version !== 1 || file.kdf.name !== 'scrypt' || problem) throw new ShadowError('IMAGE_CORRUPT', `A repository key file is not one this version reads (${problem ?? `version ${file.version}, ${file.kdf.name}`})`);
  const wrapping = await passphraseKey(passphrase, Buffer.from(file.kdf.salt, 'base64'), kdf);
  try {
    return unseal(wrapping, Buffer.from(file.wrappedKey, 'base64'), 'shadowdisk repository key', 'the key file');
  } catch {
    return undefined;
  }
}

export function deriveKeys(master: Buffer, idBytes = 32): RepositoryKeys {
  // The master key is random, so a fixed salt suffices.
  const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', master, 'shadowdisk repository', `shadowdisk repository v1 ${purpose}`, 32));
  return { encryption: derive('encryption'), chunkId: derive('chunk id'), gearSeed: derive('gear'), nonce: derive('nonce'), idBytes };
}

/**
 * Seals with a nonce derived from `identity` (a keyed hash of the plain bytes, or the bytes themselves): the same
 * content always seals to the same bytes, so two machines packing the same chunks write the same pack under the same
 * name and it is stored once. A nonce repeats only with the same plaintext, which GCM tolerates; what it reveals,
 * that two objects are equal, their names reveal already.
 */
export function sealDeterministic(keys: RepositoryKeys, plain: Uint8Array, aad: string | Uint8Array, identity: Uint8Array): Buffer {
  const nonce = createHmac('sha256', keyOf(keys.nonce)).update(identity).digest().subarray(0, NONCE);
  return seal(keys.encryption, plain, aad, nonce);
}

export function chunkIdOf(keys: RepositoryKeys, plain: Uint8Array): string {
  return createHmac('sha256', keyOf(keys.chunkId)).update(plain).digest().toString('hex', 0, keys.idBytes);
}
