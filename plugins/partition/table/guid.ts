// GUIDs as GPT stores them: 16 mixed-endian bytes (first three fields little-endian) ↔ lower-case canonical text.
import { ShadowError } from '../../../sdk/index.js';

export const GUID_SIZE = 16;
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Byte positions of the canonical text's 16 hex pairs: the first three groups are stored little-endian.
const ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15] as const;

export function isGuid(text: string): boolean {
  return GUID_PATTERN.test(text);
}

/** Canonical lower-case text of the 16 bytes at `offset`. */
export function guidFromBytes(bytes: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + GUID_SIZE > bytes.length) throw new RangeError(`A GUID needs 16 bytes at offset ${offset}, the buffer has ${bytes.length}`);
  let hex = '';
  for (const i of ORDER) hex += bytes[offset + i]!.toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Writes the GUID `text` (any case) into `target` at `offset` in GPT byte order. */
export function writeGuid(target: Uint8Array, offset: number, text: string): void {
  if (!isGuid(text)) {
    throw new ShadowError('INVALID_ARGUMENT', `'${text}' is not a GUID; expected 8-4-4-4-12 hexadecimal digits such as '0fc63daf-8483-4772-8e79-3d69d8477de4'`);
  }
  const hex = text.replaceAll('-', '');
  ORDER.forEach((byteIndex, pair) => {
    target[offset + byteIndex] = Number.parseInt(hex.slice(pair * 2, pair * 2 + 2), 16);
  });
}

export function guidToBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(GUID_SIZE);
  writeGuid(bytes, 0, text);
  return bytes;
}

/** A random version-4 GUID (RFC 9562) from the platform's cryptographic generator. */
export function randomGuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(GUID_SIZE));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  // Canonical text is big-endian: read the random bytes as text order, not GPT order.
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
