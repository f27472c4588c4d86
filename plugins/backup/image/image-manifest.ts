// The manifest region after the header: the caller's JSON, UTF-8, zstd-compressed when that helps, AES-256-GCM-sealed (header as AAD) when encrypted.
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { MANIFEST_ENCODING_RAW, MANIFEST_ENCODING_ZSTD, type ImageHeader } from './image-header.js';
import { corrupt, equalBytes, GCM_TAG_SIZE, hex, invalidArgument, MAX_MANIFEST_BYTES, tampered } from './image-format.js';

/** The manifest key seals exactly one message per image, so a constant nonce is unique. */
const MANIFEST_NONCE = new Uint8Array(12);

export interface PreparedManifest {
  readonly plainLength: number;
  readonly sha256: Uint8Array;
  readonly encoding: number;
  /** Compressed (or raw) bytes, before encryption. */
  readonly body: Uint8Array;
}

export function prepareManifest(manifest: unknown, level: number): PreparedManifest {
  let json: string | undefined;
  try {
    json = JSON.stringify(manifest);
  } catch (error) {
    throw invalidArgument(`Cannot create image: the manifest is not serializable as JSON (${(error as Error).message}); pass plain data`);
  }
  if (json === undefined) throw invalidArgument(`Cannot create image: the manifest is ${typeof manifest}, expected a JSON value`);
  const plain = new TextEncoder().encode(json);
  if (plain.length > MAX_MANIFEST_BYTES) throw invalidArgument(`Cannot create image: the manifest is ${plain.length} bytes, more than the ${MAX_MANIFEST_BYTES} allowed; keep large maps compact`);
  const packed = level > 0 ? zstdCompressSync(plain, { params: { [constants.ZSTD_c_compressionLevel]: level } }) : undefined;
  const useZstd = packed !== undefined && packed.length < plain.length;
  return {
    plainLength: plain.length,
    sha256: createHash('sha256').update(plain).digest(),
    encoding: useZstd ? MANIFEST_ENCODING_ZSTD : MANIFEST_ENCODING_RAW,
    body: useZstd ? packed : plain,
  };
}

export function sealManifest(body: Uint8Array, manifestKey: Uint8Array, headerBytes: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', manifestKey, MANIFEST_NONCE);
  cipher.setAAD(headerBytes);
  const sealed = Buffer.concat([cipher.update(body), cipher.final(), cipher.getAuthTag()]);
  return sealed;
}

/** Opens the stored manifest; `manifestKey` is given for encrypted images, whose manifest is authenticated by its GCM tag instead of a SHA-256. */
export function openManifest(header: ImageHeader, headerBytes: Uint8Array, stored: Uint8Array, manifestKey: Uint8Array | undefined): unknown {
  let body = stored;
  if (manifestKey) {
    if (stored.length < GCM_TAG_SIZE) throw corrupt(`the manifest has ${stored.length} bytes, fewer than a GCM tag`);
    const decipher = createDecipheriv('aes-256-gcm', manifestKey, MANIFEST_NONCE);
    decipher.setAAD(headerBytes);
    decipher.setAuthTag(stored.subarray(stored.length - GCM_TAG_SIZE));
    const opened = decipher.update(stored.subarray(0, stored.length - GCM_TAG_SIZE));
    try {
      decipher.final();
    } catch {
      throw tampered('the manifest (or the header it is bound to) does not match its AES-GCM tag');
    }
    body = opened;
  }
  let plain = body;
  if (header.manifestEncoding === MANIFEST_ENCODING_ZSTD) {
    try {
      plain = zstdDecompressSync(body, { maxOutputLength: Math.max(1, header.manifestPlainLength) });
    } catch (error) {
      throw corrupt(`the manifest does not decompress (${(error as Error).message})`);
    }
  }
  if (plain.length !== header.manifestPlainLength) throw corrupt(`the manifest has ${plain.length} bytes, the header says ${header.manifestPlainLength}`);
  if (!manifestKey) {
    const computed = createHash('sha256').update(plain).digest();
    if (!equalBytes(computed, header.manifestSha256)) {
      throw corrupt(`the manifest's SHA-256 is ${hex(computed)} but the header says ${hex(header.manifestSha256)}`);
    }
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain)) as unknown;
  } catch (error) {
    throw corrupt(`the manifest is not UTF-8 JSON (${(error as Error).message})`);
  }
}
