import { describe, expect, it } from 'vitest';
import { decodeGptName, encodeGptName, NAME_FIELD_BYTES } from './utf16.js';

describe('GPT name field', () => {
  it('encodes non-BMP characters as surrogate pairs in UTF-16LE', () => {
    const field = encodeGptName('a😀中');
    expect(field.length).toBe(NAME_FIELD_BYTES);
    expect(Array.from(field.subarray(0, 10))).toEqual([0x61, 0x00, 0x3d, 0xd8, 0x00, 0xde, 0x2d, 0x4e, 0x00, 0x00]);
    expect(decodeGptName(field)).toBe('a😀中');
  });

  it('stops at the first NUL and keeps the bytes after it when the name is unchanged', () => {
    const field = encodeGptName('boot');
    field.set([0x41, 0x00, 0x42, 0x00], 20);
    expect(decodeGptName(field)).toBe('boot');
    expect(encodeGptName('boot', field)).toEqual(field);
    expect(Array.from(encodeGptName('root', field).subarray(20, 24))).toEqual([0, 0, 0, 0]);
  });

  it('reads a full field of 36 code units without a NUL', () => {
    const name = '😀'.repeat(18);
    expect(decodeGptName(encodeGptName(name))).toBe(name);
  });

  it('refuses names longer than 36 code units, counting surrogate pairs as two', () => {
    expect(() => encodeGptName(`${'😀'.repeat(18)}x`)).toThrow(/takes 37 UTF-16 code units, at most 36/);
  });
});
