// Little-endian field readers for on-disk structures; 64-bit fields must fit a JS number (2^53) or the volume is refused.
import { ShadowError } from '../../../sdk/index.js';

export const u8 = (bytes: Uint8Array, offset: number): number => bytes[offset]!;
export const u16 = (bytes: Uint8Array, offset: number): number => bytes[offset]! | (bytes[offset + 1]! << 8);
export const u32 = (bytes: Uint8Array, offset: number): number => (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
export const be32 = (bytes: Uint8Array, offset: number): number => ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;

export function u64(bytes: Uint8Array, offset: number, field: string): number {
  return join64(u32(bytes, offset + 4), u32(bytes, offset), field);
}

export function be64(bytes: Uint8Array, offset: number, field: string): number {
  return join64(be32(bytes, offset), be32(bytes, offset + 4), field);
}

function join64(high: number, low: number, field: string): number {
  const value = high * 2 ** 32 + low;
  if (!Number.isSafeInteger(value)) throw new ShadowError('UNSUPPORTED', `Cannot read ${field}: value ${BigInt(high) * 2n ** 32n + BigInt(low)} is past 2^53`);
  return value;
}

export const ascii = (bytes: Uint8Array, offset: number, length: number): string => String.fromCharCode(...bytes.subarray(offset, offset + length));

/** Throws INVALID_ARGUMENT naming the field when a structural check fails. */
export function expectField(ok: boolean, filesystem: string, field: string, value: number | string, expected: string): void {
  if (!ok) {
    throw new ShadowError('INVALID_ARGUMENT', `Cannot read the ${filesystem} used-block map: ${field} is '${value}' but ${expected}; the volume is damaged or not ${filesystem}, copy every block instead`);
  }
}
