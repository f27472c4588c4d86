import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.js';

describe('crc32c', () => {
  it('gives the published check value 0xE3069283 for the ASCII digits 1 to 9', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('gives the same CRC through the 8-byte fast path as a bit-at-a-time reference, at every length and offset', () => {
    const reference = (bytes: Uint8Array) => {
      let crc = 0xffffffff;
      for (const byte of bytes) {
        crc ^= byte;
        for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
      }
      return (crc ^ 0xffffffff) >>> 0;
    };
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 0xff);
    for (let start = 0; start < 9; start++) for (let end = start; end <= bytes.length; end += 13) expect(crc32c(bytes.subarray(start, end))).toBe(reference(bytes.subarray(start, end)));
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });
});
