// One chunk as stored in a pack: its id (keyed hash of the plain bytes), then sealed (AES-256-GCM, the id as
// associated data and the source of the nonce, so equal chunks seal equally) framing of a kind byte (0 raw, 1 zstd) and the body. Opening checks all of it.
import { native } from '../../../native/load.js';
import { ShadowError } from '../../../sdk/index.js';
import { chunkIdOf, sealDeterministic, unseal, type RepositoryKeys } from './repository-keys.js';

export interface EncodedBlob {
  id: string;
  sealed: Buffer;
  plainLength: number;
}

export function encodeBlob(keys: RepositoryKeys, plain: Uint8Array, level: number, id = chunkIdOf(keys, plain)): EncodedBlob {
  const framed = Buffer.allocUnsafe(plain.length + 1);
  const packed = level > 0 && plain.length > 64 ? native().zstdCompressInto(plain, framed, 1, plain.length - 1, level) : -1;
  let body: Buffer;
  if (packed > 0) {
    framed[0] = 1;
    body = framed.subarray(0, packed + 1);
  } else {
    framed[0] = 0;
    framed.set(plain, 1);
    body = framed;
  }
  const idBytes = Buffer.from(id, 'hex');
  return { id, sealed: sealDeterministic(keys, body, idBytes, idBytes), plainLength: plain.length };
}

/** The plain bytes of a blob read from `where` (an object name); IMAGE_TAMPERED/IMAGE_CORRUPT name it when it fails. */
export function decodeBlob(keys: RepositoryKeys, id: string, sealed: Uint8Array, plainLength: number, where: string): Buffer {
  const what = `Chunk ${id.slice(0, 16)} in ${where}`;
  const framed = unseal(keys.encryption, sealed, Buffer.from(id, 'hex'), what);
  let plain: Buffer;
  if (framed[0] === 0) plain = framed.subarray(1);
  else if (framed[0] === 1) {
    plain = Buffer.allocUnsafe(plainLength);
    try {
      const n = native().zstdDecompressInto(framed.subarray(1), plain);
      if (n !== plainLength) throw new Error(`${n} bytes instead of ${plainLength}`);
    } catch (error) {
      throw new ShadowError('IMAGE_CORRUPT', `${what} does not decompress: ${(error as Error).message}`, { details: { object: where } });
    }
  } else throw new ShadowError('IMAGE_CORRUPT', `${what} has an unknown kind ${framed[0]}`, { details: { object: where } });
  if (plain.length !== plainLength || chunkIdOf(keys, plain) !== id) {
    throw new ShadowError('IMAGE_CORRUPT', `${what} does not hash to its id`, { details: { object: where } });
  }
  return plain;
}
