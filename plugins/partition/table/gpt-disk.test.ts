import { describe, expect, it } from 'vitest';
import { ShadowError } from '../../../sdk/index.js';
import { readGptDisk } from './gpt-disk.js';
import { repairGpt, writeGptDisk } from './gpt-disk-write.js';
import { gptDiskToLayout, layoutToGptDisk } from './gpt-layout.js';
import { resolveGptType } from './gpt-types.js';
import type { Layout } from './layout.js';
import { applyWrites, memoryReader } from './sector-io.js';

function layout(sectorSize: number, sectorCount: number, slots: number, firstUsableLba: number, lastUsableLba: number): Layout {
  return {
    table: 'gpt',
    geometry: { sectorSize, sectorCount },
    diskId: '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d',
    firstUsableLba,
    lastUsableLba,
    partitionSlots: slots,
    partitions: [
      { number: 1, startLba: firstUsableLba, sizeSectors: 10, gpt: { typeGuid: resolveGptType('esp'), uuid: '11111111-2222-4333-8444-555555555555', name: 'EFI 😀', attributes: 1n | (1n << 63n) } },
      { number: slots, startLba: firstUsableLba + 10, sizeSectors: 5, gpt: { typeGuid: resolveGptType('linux'), uuid: '21111111-2222-4333-8444-555555555555', name: '', attributes: 0n } },
    ],
  };
}

/** Writes a layout with the given entry size onto a blank image by rebuilding the headers around a bigger entry. */
function imageWith(l: Layout, entrySize: number): Uint8Array {
  const { sectorSize, sectorCount } = l.geometry;
  const fresh = layoutToGptDisk(l);
  const sectors = Math.ceil((fresh.primary.entryCount * entrySize) / sectorSize);
  const disk = {
    ...fresh,
    primary: { ...fresh.primary, entrySize },
    backup: { ...fresh.backup, entrySize, entriesLba: sectorCount - 1 - sectors },
    entryArray: new Uint8Array(sectors * sectorSize),
  };
  return applyWrites(new Uint8Array(sectorCount * sectorSize), sectorSize, writeGptDisk(disk, l.geometry));
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

describe('GPT disk codec', () => {
  for (const [sectorSize, slots, entrySize] of [[512, 4, 128], [512, 56, 256], [4096, 4, 128], [4096, 256, 256], [512, 128, 128]] as const) {
    it(`reads back ${slots} entries of ${entrySize} bytes on ${sectorSize}-byte sectors and writes them byte-identically`, () => {
      const sectorCount = 4096;
      const arraySectors = Math.ceil((slots * entrySize) / sectorSize);
      const l = layout(sectorSize, sectorCount, slots, 2 + arraySectors, sectorCount - 2 - arraySectors);
      const image = imageWith(l, entrySize);
      const disk = readGptDisk(memoryReader(image, sectorSize), l.geometry);
      expect([disk.warnings, disk.mbrKind, disk.primary.entrySize]).toEqual([[], 'protective', entrySize]);
      expect(gptDiskToLayout(disk)).toEqual(l);
      expect(same(applyWrites(image, sectorSize, writeGptDisk(disk, l.geometry)), image)).toBe(true);
    });
  }

  it('keeps bytes after the name NUL and past the header size on an unchanged disk', () => {
    const l = layout(512, 4096, 128, 34, 4062);
    const disk = readGptDisk(memoryReader(imageWith(l, 128), 512), l.geometry);
    const entryRaw = disk.entries[0]!.raw!.slice();
    entryRaw[56 + 40] = 0x41; // in the name field, after 'EFI 😀' and its NUL
    const headerRaw = disk.primary.raw.slice();
    headerRaw[200] = 0x99; // past the 92 header bytes the CRC covers
    const odd = { ...disk, primary: { ...disk.primary, raw: headerRaw }, entries: [{ ...disk.entries[0]!, raw: entryRaw }, ...disk.entries.slice(1)] };
    const image = applyWrites(new Uint8Array(4096 * 512), 512, writeGptDisk(odd, l.geometry));
    const again = readGptDisk(memoryReader(image, 512), l.geometry);
    expect([again.warnings, again.entries[0]!.name]).toEqual([[], 'EFI 😀']);
    expect([image[1024 + 56 + 40], image[512 + 200]]).toEqual([0x41, 0x99]);
    expect(same(applyWrites(image, 512, writeGptDisk(again, l.geometry)), image)).toBe(true);
  });

  it('refuses a layout whose usable range overlaps the entry arrays, saying what fits', () => {
    const l = layout(512, 4096, 128, 20, 4062);
    expect(() => layoutToGptDisk(l)).toThrow(ShadowError);
    expect(() => layoutToGptDisk(l)).toThrow(/usable range 20–4062 does not fit .* use 34–4062 or less/);
  });

  it('repairs nothing on a healthy disk', () => {
    const l = layout(512, 4096, 128, 34, 4062);
    const image = imageWith(l, 128);
    const disk = readGptDisk(memoryReader(image, 512), l.geometry);
    expect(same(applyWrites(image, 512, writeGptDisk(repairGpt(disk), l.geometry)), image)).toBe(true);
  });
});
