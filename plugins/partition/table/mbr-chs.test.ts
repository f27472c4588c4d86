import { describe, expect, test } from 'vitest';
import { chsBytes, chsToLba, decodeChs, SFDISK_CHS_GEOMETRY } from './chs.js';

describe('CHS policy', () => {
  // Bytes read from tables sfdisk 2.38 wrote on image files and 4096-byte-sector loop devices.
  const sfdiskWrote: readonly [number, readonly [number, number, number]][] = [
    [2048, [0x20, 0x21, 0x00]],
    [22527, [0x66, 0x25, 0x01]],
    [24576, [0x87, 0x07, 0x01]],
    [256, [0x04, 0x05, 0x00]],
    [2121728, [0x12, 0x0f, 0x84]],
    [4220927, [0xbc, 0x76, 0x06]],
    [41943039, [0xfe, 0xff, 0xff]],
  ];
  test.each(sfdiskWrote)('encodes LBA %i as sfdisk does', (lba, bytes) => {
    expect(chsBytes(lba)).toEqual(bytes);
  });

  test('clamps LBAs past cylinder 1023 to 1023/254/63', () => {
    const lastAddressable = 1024 * 255 * 63 - 1;
    expect(decodeChs(chsBytes(lastAddressable))).toEqual({ cylinder: 1023, head: 254, sector: 63 });
    expect(chsBytes(lastAddressable + 1)).toEqual([0xfe, 0xff, 0xff]);
    expect(chsBytes(0xffffffff)).toEqual([0xfe, 0xff, 0xff]);
  });

  test('decodes back to the LBA below the clamp, cylinder high bits included', () => {
    for (const lba of [0, 62, 63, 16064, 16065, 4 * 16065 * 64 + 17, 1000 * 16065 + 12345]) {
      expect(chsToLba(chsBytes(lba), SFDISK_CHS_GEOMETRY)).toBe(lba);
    }
  });

  test('uses another geometry when asked', () => {
    expect(chsBytes(2048, { heads: 4, sectorsPerTrack: 32 })).toEqual([0x00, 0x01, 0x10]);
  });
});
