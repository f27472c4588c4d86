// The trailer (chunk index, whole-image digest, its own digest) and the fixed 48-byte footer at the end of the file that points at it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { type ChunkIndexEntry } from './chunk-record.js';
import {
  ascii, CHUNK_KIND_CODES, CHUNK_KINDS, corrupt, DIGEST_SIZE, ENCRYPTION_OVERHEAD, FOOTER_MAGIC, FOOTER_SIZE, hex,
  INDEX_ENTRY_SIZE, RECORD_FLAG_ENCRYPTED, RECORD_HEADER_SIZE, readU64, tampered, TRAILER_FIXED_SIZE, TRAILER_MAGIC,
  view, writeAscii, writeU64,
} from './image-format.js';

export interface Trailer {
  readonly chunkCount: number;
  readonly totalPlainBytes: number;
  /** SHA-256 (or HMAC-SHA-256 with the MAC key when encrypted) of every byte before the trailer. */
  readonly imageDigest: Uint8Array;
  readonly manifestSha256: Uint8Array;
  readonly entries: readonly ChunkIndexEntry[];
}

export interface Footer {
  readonly trailerOffset: number;
  readonly trailerLength: number;
}

/** SHA-256 without encryption, HMAC-SHA-256 with the image's MAC key with encryption. */
export function newDigest(macKey: Uint8Array | undefined): { update(data: Uint8Array): unknown; digest(): Buffer } {
  return macKey ? createHmac('sha256', macKey) : createHash('sha256');
}

export function trailerLength(chunkCount: number): number {
  return TRAILER_FIXED_SIZE + chunkCount * INDEX_ENTRY_SIZE + DIGEST_SIZE;
}

export function encodeTrailer(trailer: Omit<Trailer, 'chunkCount' | 'totalPlainBytes'>, macKey: Uint8Array | undefined): Uint8Array {
  const { entries } = trailer;
  const bytes = new Uint8Array(trailerLength(entries.length));
  const dv = view(bytes);
  writeAscii(bytes, 0, TRAILER_MAGIC);
  dv.setUint32(4, INDEX_ENTRY_SIZE, true);
  writeU64(dv, 8, entries.length);
  writeU64(dv, 16, entries.reduce((sum, entry) => sum + entry.plainLength, 0));
  bytes.set(trailer.imageDigest, 24);
  bytes.set(trailer.manifestSha256, 56);
  entries.forEach((entry, i) => {
    const at = TRAILER_FIXED_SIZE + i * INDEX_ENTRY_SIZE;
    writeU64(dv, at, entry.fileOffset);
    dv.setUint32(at + 8, entry.storedLength, true);
    bytes[at + 12] = CHUNK_KIND_CODES[entry.kind];
    bytes[at + 13] = entry.encrypted ? RECORD_FLAG_ENCRYPTED : 0;
    writeU64(dv, at + 16, entry.offsetBytes);
    dv.setUint32(at + 24, entry.streamId, true);
    dv.setUint32(at + 28, entry.plainLength, true);
    bytes.set(entry.plainSha256, at + 32);
  });
  const body = bytes.subarray(0, bytes.length - DIGEST_SIZE);
  bytes.set(digestOf(body, macKey), bytes.length - DIGEST_SIZE);
  return bytes;
}

function digestOf(data: Uint8Array, macKey: Uint8Array | undefined): Uint8Array {
  const digest = newDigest(macKey);
  digest.update(data);
  return digest.digest();
}

/** Checks the trailer's own digest first (CORRUPT without a key, TAMPERED with one), then parses it. */
export function parseTrailer(bytes: Uint8Array, macKey: Uint8Array | undefined): Trailer {
  if (bytes.length < TRAILER_FIXED_SIZE + DIGEST_SIZE) throw corrupt(`the trailer has ${bytes.length} bytes, fewer than ${TRAILER_FIXED_SIZE + DIGEST_SIZE}`);
  const magic = ascii(bytes.subarray(0, 4));
  if (magic !== TRAILER_MAGIC) throw corrupt(`the trailer starts with '${magic}', expected '${TRAILER_MAGIC}'`);
  const stored = bytes.subarray(bytes.length - DIGEST_SIZE);
  const computed = digestOf(bytes.subarray(0, bytes.length - DIGEST_SIZE), macKey);
  if (!timingSafeEqual(stored, computed)) {
    if (macKey) throw tampered('the trailer (chunk index) does not match its HMAC-SHA-256');
    throw corrupt(`the trailer's SHA-256 is ${hex(stored)} but its bytes give ${hex(computed)}`);
  }
  const dv = view(bytes);
  const entrySize = dv.getUint32(4, true);
  if (entrySize !== INDEX_ENTRY_SIZE) throw corrupt(`index entries are ${entrySize} bytes, expected ${INDEX_ENTRY_SIZE}`);
  const chunkCount = readU64(dv, 8, 'the chunk count');
  if (trailerLength(chunkCount) !== bytes.length) throw corrupt(`the trailer has ${bytes.length} bytes but ${chunkCount} chunks need ${trailerLength(chunkCount)}`);
  const entries: ChunkIndexEntry[] = [];
  for (let i = 0; i < chunkCount; i++) {
    const at = TRAILER_FIXED_SIZE + i * INDEX_ENTRY_SIZE;
    const kind = CHUNK_KINDS[bytes[at + 12]!];
    if (!kind) throw corrupt(`index entry ${i} has chunk kind ${bytes[at + 12]}, expected 0–2`);
    entries.push({
      index: i,
      fileOffset: readU64(dv, at, `the file offset of index entry ${i}`),
      storedLength: dv.getUint32(at + 8, true),
      kind,
      encrypted: (bytes[at + 13]! & RECORD_FLAG_ENCRYPTED) !== 0,
      offsetBytes: readU64(dv, at + 16, `the stream offset of index entry ${i}`),
      streamId: dv.getUint32(at + 24, true),
      plainLength: dv.getUint32(at + 28, true),
      plainSha256: bytes.slice(at + 32, at + 32 + DIGEST_SIZE),
    });
  }
  return {
    chunkCount,
    totalPlainBytes: readU64(dv, 16, 'the total plain bytes'),
    imageDigest: bytes.slice(24, 24 + DIGEST_SIZE),
    manifestSha256: bytes.slice(56, 56 + DIGEST_SIZE),
    entries,
  };
}

export interface IndexLayout {
  readonly manifestEnd: number;
  readonly trailerOffset: number;
  readonly chunkSizeBytes: number;
  readonly encrypted: boolean;
}

/** Records are contiguous and in index order from the manifest's end to the trailer; each stream's chunks ascend without overlap. */
export function validateIndex(entries: readonly ChunkIndexEntry[], layout: IndexLayout): void {
  let expectedOffset = layout.manifestEnd;
  const streamEnds = new Map<number, number>();
  for (const entry of entries) {
    const at = `index entry ${entry.index}`;
    if (entry.fileOffset !== expectedOffset) throw corrupt(`${at} puts its record at byte ${entry.fileOffset}, expected ${expectedOffset} right after the previous record (chunk out of place)`, { chunk: entry.index });
    if (entry.plainLength < 1 || entry.plainLength > layout.chunkSizeBytes) throw corrupt(`${at} holds ${entry.plainLength} bytes, expected 1–${layout.chunkSizeBytes} (the chunk size)`);
    const shouldEncrypt = layout.encrypted && entry.kind !== 'zero';
    if (entry.encrypted !== shouldEncrypt) throw corrupt(`${at} is ${entry.encrypted ? '' : 'not '}encrypted in an ${layout.encrypted ? '' : 'un'}encrypted image`);
    const overhead = entry.encrypted ? ENCRYPTION_OVERHEAD : 0;
    const storedOk = entry.kind === 'zero' ? entry.storedLength === 0
      : entry.kind === 'raw' ? entry.storedLength === entry.plainLength + overhead
      : entry.storedLength > overhead && entry.storedLength < entry.plainLength + overhead;
    if (!storedOk) throw corrupt(`${at} is a ${entry.kind} chunk of ${entry.plainLength} bytes stored in ${entry.storedLength} bytes, which cannot be`);
    const streamEnd = streamEnds.get(entry.streamId) ?? 0;
    if (entry.offsetBytes < streamEnd) throw corrupt(`${at} starts stream ${entry.streamId} at offset ${entry.offsetBytes}, before the end ${streamEnd} of the stream's previous chunk (chunk out of place)`, { chunk: entry.index });
    streamEnds.set(entry.streamId, entry.offsetBytes + entry.plainLength);
    expectedOffset = entry.fileOffset + RECORD_HEADER_SIZE + entry.storedLength;
  }
  if (expectedOffset !== layout.trailerOffset) throw corrupt(`the chunk records end at byte ${expectedOffset} but the trailer starts at byte ${layout.trailerOffset}`);
}

export function encodeFooter(footer: Footer, imageId: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(FOOTER_SIZE);
  const dv = view(bytes);
  writeU64(dv, 0, footer.trailerOffset);
  writeU64(dv, 8, footer.trailerLength);
  bytes.set(imageId, 16);
  dv.setUint32(32, crc32(bytes.subarray(0, 32)), true);
  writeAscii(bytes, 40, FOOTER_MAGIC);
  return bytes;
}

export function parseFooter(bytes: Uint8Array, fileSize: number, imageId: Uint8Array): Footer {
  const magic = ascii(bytes.subarray(40, 48));
  if (magic !== FOOTER_MAGIC) throw corrupt(`the file ends with '${magic}', expected the footer magic '${FOOTER_MAGIC}' (the image is truncated or its backup did not finish)`);
  const dv = view(bytes);
  const storedCrc = dv.getUint32(32, true);
  if (storedCrc !== crc32(bytes.subarray(0, 32))) throw corrupt(`the footer's CRC32 0x${storedCrc.toString(16)} does not match its bytes`);
  if (Buffer.compare(bytes.subarray(16, 32), imageId) !== 0) throw corrupt(`the footer names image ${hex(bytes.subarray(16, 32))} but the header names image ${hex(imageId)}`);
  const trailerOffset = readU64(dv, 0, 'the trailer offset');
  const trailerLen = readU64(dv, 8, 'the trailer length');
  if (trailerOffset + trailerLen + FOOTER_SIZE !== fileSize) {
    throw corrupt(`the footer puts the trailer at bytes ${trailerOffset}+${trailerLen}, which does not end where the ${fileSize}-byte file's footer starts`);
  }
  return { trailerOffset, trailerLength: trailerLen };
}
