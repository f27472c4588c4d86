import { describe, expect, it } from 'vitest';
import { guidFromBytes, guidToBytes, isGuid, randomGuid, writeGuid } from './guid.js';

const ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const ESP_BYTES = [0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b];

describe('guid', () => {
  it('stores the first three fields little-endian and the last two as written', () => {
    expect(Array.from(guidToBytes(ESP))).toEqual(ESP_BYTES);
    expect(guidFromBytes(Uint8Array.from(ESP_BYTES))).toBe(ESP);
    expect(Array.from(guidToBytes('00112233-4455-6677-8899-aabbccddeeff'))).toEqual([0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
  });

  it('reads at an offset, accepts upper case and prints lower case', () => {
    const buffer = new Uint8Array(40);
    writeGuid(buffer, 20, ESP.toUpperCase());
    expect(guidFromBytes(buffer, 20)).toBe(ESP);
  });

  it('refuses text that is not a GUID, naming it', () => {
    expect(() => guidToBytes('c12a7328-f81f-11d2-ba4b')).toThrow(/'c12a7328-f81f-11d2-ba4b' is not a GUID/);
  });

  it('makes random version-4 GUIDs with the RFC variant bits', () => {
    const a = randomGuid();
    expect(isGuid(a)).toBe(true);
    expect(a[14]).toBe('4');
    expect('89ab').toContain(a[19]);
    expect(randomGuid()).not.toBe(a);
  });
});
