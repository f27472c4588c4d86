import { describe, expect, test } from 'vitest';
import { isShadowError } from '../../../sdk/index.js';
import { readMbrDisk } from './mbr-disk-read.js';
import { writeMbrDisk } from './mbr-disk-write.js';
import { logicalPartitions } from './mbr-disk.js';
import { isProtectiveMbr, mbrKind } from './mbr-kind.js';
import { mbrDiskToLayout } from './mbr-layout.js';
import { layoutToMbrDisk } from './mbr-layout-build.js';
import { EMPTY_ENTRY, parseMbrSector, serializeMbrSector, type MbrEntry } from './mbr-sector.js';
import { applyWrites, memoryReader } from './sector-io.js';
import { freezeLayout, type Layout, type LayoutPartition } from './layout.js';

const MIB = 2048;
const geometry = { sectorSize: 512, sectorCount: 64 * MIB };

function part(number: number, startLba: number, sizeSectors: number, role: 'primary' | 'extended' | 'logical', type = 0x83, bootable = false): LayoutPartition {
  return { number, startLba, sizeSectors, mbr: { role, type: role === 'extended' ? 0x05 : type, bootable } };
}

const layout: Layout = freezeLayout({
  table: 'mbr', geometry, diskId: '0x0badcafe', firstUsableLba: 1, lastUsableLba: geometry.sectorCount - 1,
  partitions: [part(1, MIB, 8 * MIB, 'primary', 0x0c, true), part(2, 9 * MIB, 40 * MIB, 'extended'), part(3, 50 * MIB, 4 * MIB, 'primary', 0x82),
    part(5, 10 * MIB, 4 * MIB, 'logical', 0x8e), part(6, 15 * MIB, 4 * MIB, 'logical', 0x07), part(7, 20 * MIB, MIB, 'logical')],
});

function imageOf(l: Layout, base?: Parameters<typeof layoutToMbrDisk>[1]): Uint8Array {
  const blank = new Uint8Array(l.geometry.sectorCount * l.geometry.sectorSize);
  return applyWrites(blank, l.geometry.sectorSize, writeMbrDisk(layoutToMbrDisk(l, base), l.geometry));
}

describe('MBR disk codec', () => {
  test('builds a layout into sectors and reads the same layout back', () => {
    const image = imageOf(layout);
    const disk = readMbrDisk(memoryReader(image, 512), geometry);
    expect(mbrDiskToLayout(disk, geometry)).toEqual(layout);
    expect(disk.ebrs.map((e) => e.lba)).toEqual([9 * MIB, 14 * MIB, 19 * MIB]);
  });

  test('places EBRs as libfdisk does: the first at the extended start, later ones 1 MiB before their logical', () => {
    const disk = layoutToMbrDisk(layout);
    const [first, second] = disk.ebrs;
    expect(first!.record.entries[0]).toMatchObject({ firstLba: MIB, sectors: 4 * MIB });
    expect(first!.record.entries[1]).toMatchObject({ type: 0x05, firstLba: 5 * MIB, sectors: MIB + 4 * MIB });
    expect(second!.lba).toBe(14 * MIB);
  });

  test('moves an EBR after the previous logical when 1 MiB before its logical is taken', () => {
    const tight = freezeLayout({ ...layout, partitions: [part(2, 9 * MIB, 40 * MIB, 'extended'), part(5, 10 * MIB, 100, 'logical'), part(6, 10 * MIB + 200, 100, 'logical')] });
    expect(layoutToMbrDisk(tight).ebrs.map((e) => e.lba)).toEqual([9 * MIB, 10 * MIB + 100]);
  });

  test('puts EBRs right before their logical when a partition starts inside the first MiB of its range, as sfdisk does', () => {
    const early = freezeLayout({ ...layout, partitions: [part(1, 63, MIB, 'primary'), part(2, 9 * MIB, 40 * MIB, 'extended'), part(5, 10 * MIB, MIB, 'logical'), part(6, 20 * MIB, MIB, 'logical')] });
    expect(layoutToMbrDisk(early).ebrs.map((e) => e.lba)).toEqual([9 * MIB, 20 * MIB - 1]);
    const nearExtended = freezeLayout({ ...layout, partitions: [part(2, 9 * MIB, 40 * MIB, 'extended'), part(5, 9 * MIB + 1, 100, 'logical'), part(6, 20 * MIB, MIB, 'logical')] });
    expect(layoutToMbrDisk(nearExtended).ebrs.map((e) => e.lba)).toEqual([9 * MIB, 20 * MIB - 1]);
  });

  test('refuses a logical partition that leaves no sector for its EBR', () => {
    const tight = freezeLayout({ ...layout, partitions: [part(2, 9 * MIB, 40 * MIB, 'extended'), part(5, 9 * MIB + 1, 100, 'logical'), part(6, 9 * MIB + 101, 100, 'logical')] });
    expect(() => layoutToMbrDisk(tight)).toThrow(/Logical partition at sector 18533 leaves no sector for its EBR/);
  });

  test('writes back an unchanged disk byte for byte, boot code and EBR boot areas included', () => {
    const image = imageOf(layout);
    image.fill(0xa5, 0, 440); // boot code
    image.fill(0x5a, 14 * MIB * 512, 14 * MIB * 512 + 446); // the second EBR's boot area
    const disk = readMbrDisk(memoryReader(image, 512), geometry);
    const writes = writeMbrDisk(disk, geometry);
    for (const w of writes) expect(w.bytes).toEqual(image.slice(w.lba * 512, (w.lba + 1) * 512));
    const rebuilt = writeMbrDisk(layoutToMbrDisk(mbrDiskToLayout(disk, geometry), disk), geometry);
    expect(rebuilt).toEqual(writes);
  });

  test('keeps the raw bytes of unchanged partitions when a logical is deleted', () => {
    const image = imageOf(layout);
    image.fill(0x5a, 19 * MIB * 512, 19 * MIB * 512 + 446); // boot area of logical 7's EBR
    const disk = readMbrDisk(memoryReader(image, 512), geometry);
    const changed = freezeLayout({ ...layout, partitions: layout.partitions.filter((p) => p.number !== 6).map((p) => (p.number === 7 ? { ...p, number: 6 } : p)) });
    const after = readMbrDisk(memoryReader(imageOf(changed, disk), 512), geometry);
    expect(mbrDiskToLayout(after, geometry)).toEqual(changed);
    expect(after.ebrs.map((e) => e.lba)).toEqual([9 * MIB, 19 * MIB]);
    expect(after.ebrs[1]!.raw!.slice(0, 446).every((b) => b === 0x5a)).toBe(true);
    expect(logicalPartitions(after).map((l) => l.number)).toEqual([5, 6]);
  });

  test('writes an empty EBR for an extended partition without logicals, as sfdisk does', () => {
    const empty = freezeLayout({ ...layout, partitions: [part(2, 9 * MIB, 40 * MIB, 'extended')] });
    const disk = layoutToMbrDisk(empty);
    expect(disk.ebrs).toHaveLength(1);
    expect(disk.ebrs[0]!.record.entries.every((e) => e === EMPTY_ENTRY)).toBe(true);
    expect(mbrDiskToLayout(readMbrDisk(memoryReader(imageOf(empty), 512), geometry), geometry)).toEqual(empty);
  });

  test('keeps 4096-byte sectors whole, bytes past 512 included', () => {
    const g4k = { sectorSize: 4096, sectorCount: 16384 };
    const l4k = freezeLayout({ ...layout, geometry: g4k, lastUsableLba: 16383, partitions: [part(1, 256, 1024, 'primary'), part(2, 1280, 4096, 'extended'), part(5, 1536, 256, 'logical')] });
    const image = imageOf(l4k);
    image.fill(0x77, 1000, 4096);
    const disk = readMbrDisk(memoryReader(image, 4096), g4k);
    const [mbrWrite] = writeMbrDisk(disk, g4k);
    expect(mbrWrite!.bytes).toEqual(image.slice(0, 4096));
  });

  test('refuses layouts MBR cannot hold', () => {
    const twoExtended = freezeLayout({ ...layout, partitions: [part(1, MIB, MIB, 'extended'), part(2, 3 * MIB, MIB, 'extended')] });
    expect(() => layoutToMbrDisk(twoExtended)).toThrow(/2 extended partitions/);
    const orphan = freezeLayout({ ...layout, partitions: [part(5, MIB, MIB, 'logical')] });
    expect(() => layoutToMbrDisk(orphan)).toThrow(/needs an extended partition/);
    const huge = freezeLayout({ ...layout, partitions: [part(1, 2 ** 32 - 10, 100, 'primary')] });
    try {
      layoutToMbrDisk(huge);
      expect.unreachable();
    } catch (error) {
      expect(isShadowError(error, 'SIZE_MISMATCH')).toBe(true);
    }
  });

  test('numbers logicals in chain order and ignores EBRs without a logical', () => {
    const disk = layoutToMbrDisk(layout);
    const hollow = { ...disk, ebrs: disk.ebrs.map((e, i) => (i === 1 ? { ...e, record: { ...e.record, entries: [EMPTY_ENTRY, e.record.entries[1], EMPTY_ENTRY, EMPTY_ENTRY] as const } } : e)) };
    expect(mbrDiskToLayout(hollow, geometry).partitions.filter((p) => p.mbr?.role === 'logical').map((p) => [p.number, p.startLba])).toEqual([[5, 10 * MIB], [6, 20 * MIB]]);
  });
});

describe('MBR kind', () => {
  const entry = (type: number, firstLba = 1, sectors = 100): MbrEntry => ({ ...EMPTY_ENTRY, type, firstLba, sectors });
  const sector = (...entries: MbrEntry[]) => serializeMbrSector({ bootCode: new Uint8Array(440), diskSignature: 0, reserved: 0, entries: [entries[0] ?? EMPTY_ENTRY, entries[1] ?? EMPTY_ENTRY, entries[2] ?? EMPTY_ENTRY, entries[3] ?? EMPTY_ENTRY] });

  test('tells empty, classic, protective and hybrid MBRs apart', () => {
    expect(mbrKind(new Uint8Array(512))).toBe('empty');
    expect(mbrKind(sector())).toBe('empty');
    expect(mbrKind(sector(entry(0x83)))).toBe('mbr');
    expect(mbrKind(sector(entry(0xee, 1, 0xffffffff)))).toBe('protective');
    expect(mbrKind(sector(entry(0xee, 1, 2047), entry(0x0c, 2048, 100)))).toBe('hybrid');
    expect(isProtectiveMbr(sector(entry(0xee)))).toBe(true);
    expect(isProtectiveMbr(sector(entry(0x07)))).toBe(false);
  });

  test('round-trips a sector record byte for byte', () => {
    const raw = sector(entry(0x83, 2048, 4096), entry(0x05, 8192, 1000));
    raw.fill(0x11, 0, 440);
    expect(serializeMbrSector(parseMbrSector(raw), { base: raw })).toEqual(raw);
    expect(serializeMbrSector(parseMbrSector(raw))).toEqual(raw);
  });

  test('refuses to read a GPT protective MBR as an MBR disk', () => {
    const image = new Uint8Array(512 * 4096);
    image.set(sector(entry(0xee, 1, 4095)));
    expect(() => readMbrDisk(memoryReader(image, 512), { sectorSize: 512, sectorCount: 4096 })).toThrow(/GPT protective MBR/);
  });
});
