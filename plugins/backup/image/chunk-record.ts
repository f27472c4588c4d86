// The 80-byte record header in front of every chunk's payload, and the index entry that describes a chunk for random access.
import { crc32 } from 'node:zlib';
import {
  ascii, CHUNK_KIND_CODES, CHUNK_KINDS, corrupt, DIGEST_SIZE, equalBytes, RECORD_FLAG_ENCRYPTED, RECORD_HEADER_SIZE,
  RECORD_MAGIC, readU64, view, writeAscii, writeU64, type ChunkKind,
} from './image-format.js';

/** Bytes 0–39 of the record header, bound into the GCM tag as additional data (after the image id). */
export const RECORD_AAD_BYTES = 40;
const CRC_OFFSET = 76;

export interface ChunkIndexEntry {
  readonly index: number;
  /** Where the chunk's record header starts in the image file. */
  readonly fileOffset: number;
  /** Payload bytes after the record header (compressed and/or encrypted, GCM tag included). */
  readonly storedLength: number;
  readonly streamId: number;
  readonly offsetBytes: number;
  readonly plainLength: number;
  readonly kind: ChunkKind;
  readonly encrypted: boolean;
  /** SHA-256 of the plain data; all zeros in encrypted images, where it lives inside the ciphertext. */
  readonly plainSha256: Uint8Array;
}

export type ChunkRecordFields = Omit<ChunkIndexEntry, 'fileOffset'>;

export function encodeRecordHeader(fields: ChunkRecordFields, target: Uint8Array): void {
  const dv = view(target);
  writeAscii(target, 0, RECORD_MAGIC);
  target[4] = CHUNK_KIND_CODES[fields.kind];
  target[5] = fields.encrypted ? RECORD_FLAG_ENCRYPTED : 0;
  writeU64(dv, 8, fields.index);
  writeU64(dv, 16, fields.offsetBytes);
  dv.setUint32(24, fields.streamId, true);
  dv.setUint32(28, fields.plainLength, true);
  dv.setUint32(32, fields.storedLength, true);
  target.set(fields.plainSha256, 40);
  dv.setUint32(CRC_OFFSET, crc32(target.subarray(0, CRC_OFFSET)), true);
}

/** Parses a record header; `where` names it in errors (`chunk record at byte 4096`). */
export function parseRecordHeader(bytes: Uint8Array, where: string): ChunkRecordFields {
  if (bytes.length < RECORD_HEADER_SIZE) throw corrupt(`${where} has ${bytes.length} bytes, fewer than a ${RECORD_HEADER_SIZE}-byte record header`);
  const magic = ascii(bytes.subarray(0, 4));
  if (magic !== RECORD_MAGIC) throw corrupt(`${where} starts with '${magic}', expected the record magic '${RECORD_MAGIC}'`);
  const dv = view(bytes);
  const storedCrc = dv.getUint32(CRC_OFFSET, true);
  const computedCrc = crc32(bytes.subarray(0, CRC_OFFSET));
  if (storedCrc !== computedCrc) throw corrupt(`${where} has header CRC32 ${hex32(storedCrc)} but its bytes give ${hex32(computedCrc)}`);
  const kind = CHUNK_KINDS[bytes[4]!];
  if (!kind) throw corrupt(`${where} has chunk kind ${bytes[4]}, expected 0 (zero), 1 (raw) or 2 (zstd)`);
  if ((bytes[5]! & ~RECORD_FLAG_ENCRYPTED) !== 0) throw corrupt(`${where} has flags 0x${bytes[5]!.toString(16)}, expected only bit 0`);
  return {
    index: readU64(dv, 8, `the chunk index in ${where}`),
    offsetBytes: readU64(dv, 16, `the stream offset in ${where}`),
    streamId: dv.getUint32(24, true),
    plainLength: dv.getUint32(28, true),
    storedLength: dv.getUint32(32, true),
    kind,
    encrypted: (bytes[5]! & RECORD_FLAG_ENCRYPTED) !== 0,
    plainSha256: bytes.slice(40, 40 + DIGEST_SIZE),
  };
}

/** Throws IMAGE_CORRUPT naming the first field where a record header disagrees with its index entry. */
export function checkRecordMatchesEntry(record: ChunkRecordFields, entry: ChunkIndexEntry): void {
  const fields = ['index', 'streamId', 'offsetBytes', 'plainLength', 'storedLength', 'kind', 'encrypted'] as const;
  for (const field of fields) {
    if (record[field] !== entry[field]) {
      throw corrupt(
        `the chunk record at byte ${entry.fileOffset} has ${field} ${String(record[field])} but index entry ${entry.index} says ${String(entry[field])} (chunk out of place)`,
        { chunk: entry.index },
      );
    }
  }
  if (!equalBytes(record.plainSha256, entry.plainSha256)) {
    throw corrupt(`the chunk record at byte ${entry.fileOffset} carries another SHA-256 than index entry ${entry.index} (chunk out of place or replaced)`, { chunk: entry.index });
  }
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
