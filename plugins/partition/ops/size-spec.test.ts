import { describe, expect, it } from 'vitest';
import { parseSectors } from './size-spec.js';

describe('size spec', () => {
  it('reads sectors and binary units', () => {
    expect(parseSectors('2048', 512)).toBe(2048);
    expect(parseSectors('2048s', 512)).toBe(2048);
    expect(parseSectors('100MiB', 512)).toBe(204800);
    expect(parseSectors('1G', 4096)).toBe(262144);
    expect(parseSectors('1.5GiB', 512)).toBe(3145728);
  });

  it('refuses sizes that are not whole sectors, and unknown units', () => {
    expect(() => parseSectors('1000B', 512)).toThrow("The size '1000B' is 1000 bytes, not a whole number of 512-byte sectors");
    expect(() => parseSectors('10 parsecs', 512)).toThrow(/Unknown unit 'parsecs'/);
    expect(() => parseSectors('big', 512)).toThrow("Cannot read size 'big'; write it like 2048s, 512MiB or 2GiB");
  });
});
