import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';

const ascii = (text: string) => new TextEncoder().encode(text);

describe('crc32', () => {
  it('gives the IEEE check value 0xcbf43926 for "123456789"', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
  });

  it('gives 0 for no bytes and the known values for common vectors', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('a'))).toBe(0xe8b7be43);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
  });

  it('continues a checksum over data that arrives in pieces', () => {
    const whole = ascii('The quick brown fox jumps over the lazy dog');
    expect(crc32(whole.subarray(10), crc32(whole.subarray(0, 10)))).toBe(crc32(whole));
  });
});
