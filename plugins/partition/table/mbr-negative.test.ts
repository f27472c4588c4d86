// Negative corpus: damaged MBR/EBR tables made by sfdisk and then broken on purpose; each is refused with a specific
// TABLE_CORRUPT message, and reading never changes the image.
import { statSync, openSync, writeSync, closeSync, truncateSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isShadowError } from '../../../sdk/index.js';
import { run, sparseImage } from '../../../test/helpers/index.js';
import { openReader, sha256File } from '../../../test/conformance/mbr-image.js';
import { readMbrDisk } from './mbr-disk-read.js';
import { EMPTY_ENTRY, serializeMbrSector, type MbrEntry } from './mbr-sector.js';

const SECTOR = 512;
// p1 2048+8192; extended p2 10240+40960 with logicals 5 (EBR 10240), 6 (EBR 16384), 7 (EBR 22528); p3 53248+8192.
const SCRIPT = `label: dos
label-id: 0x0badcafe
x1 : start=2048, size=8192, type=83
x2 : start=10240, size=40960, type=5
x3 : start=53248, size=8192, type=7
x5 : start=12288, size=4096, type=83
x6 : start=18432, size=4096, type=82
x7 : start=24576, size=4096, type=c
`;

type Field = Partial<Pick<MbrEntry, 'status' | 'type' | 'firstLba' | 'sectors'>>;

/** Patches entry `index` (0–3) of the table sector at `lba` in place. */
function patchEntry(path: string, lba: number, index: number, field: Field): void {
  const fd = openSync(path, 'r+');
  try {
    const at = lba * SECTOR + 446 + index * 16;
    const bytes = (offset: number, value: number, size: 1 | 4) => {
      const b = Buffer.alloc(size);
      if (size === 1) b.writeUInt8(value);
      else b.writeUInt32LE(value);
      writeSync(fd, b, 0, size, at + offset);
    };
    if (field.status !== undefined) bytes(0, field.status, 1);
    if (field.type !== undefined) bytes(4, field.type, 1);
    if (field.firstLba !== undefined) bytes(8, field.firstLba, 4);
    if (field.sectors !== undefined) bytes(12, field.sectors, 4);
  } finally {
    closeSync(fd);
  }
}

function writeAt(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** A chain of `count` EBRs, each with a one-sector logical, from the extended start onwards. */
function longChain(path: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const logical: MbrEntry = { ...EMPTY_ENTRY, type: 0x83, firstLba: 1, sectors: 1 };
    const link: MbrEntry = i + 1 < count ? { ...EMPTY_ENTRY, type: 0x05, firstLba: (i + 1) * 2, sectors: 2 } : EMPTY_ENTRY;
    const sector = serializeMbrSector({ bootCode: new Uint8Array(440), diskSignature: 0, reserved: 0, entries: [logical, link, EMPTY_ENTRY, EMPTY_ENTRY] });
    writeAt(path, (10240 + i * 2) * SECTOR, sector);
  }
}

const CASES: readonly { name: string; damage: (path: string) => void; message: RegExp }[] = [
  { name: 'an EBR link pointing back to the first EBR', damage: (p) => patchEntry(p, 16384, 1, { firstLba: 0 }), message: /EBR chain loops: the link in the EBR at LBA 16384 points back to the EBR at LBA 10240/ },
  { name: 'an EBR link pointing to itself', damage: (p) => patchEntry(p, 22528, 1, { type: 0x05, firstLba: 22528 - 10240, sectors: 10 }), message: /loops: the link in the EBR at LBA 22528 points back to the EBR at LBA 22528/ },
  { name: 'an EBR link outside the extended partition', damage: (p) => patchEntry(p, 10240, 1, { firstLba: 60000 }), message: /link in the EBR at LBA 10240 points to LBA 70240, outside the extended partition 2/ },
  { name: 'a logical partition past the end of the disk', damage: (p) => patchEntry(p, 22528, 0, { sectors: 200000 }), message: /logical partition 7 \(sectors 24576–224575\) ends at sector 224575 but the disk has 131072 sectors/ },
  { name: 'a logical partition leaving the extended partition', damage: (p) => patchEntry(p, 22528, 0, { sectors: 40000 }), message: /logical partition 7 \(sectors 24576–64575\) lies outside extended partition 2/ },
  { name: 'overlapping primary partitions', damage: (p) => patchEntry(p, 0, 2, { firstLba: 2100 }), message: /partition 1 \(sectors 2048–10239\) overlaps partition 3 \(sectors 2100–10291\)/ },
  { name: 'a primary partition overlapping the extended partition', damage: (p) => patchEntry(p, 0, 0, { sectors: 9000 }), message: /partition 1 \(sectors 2048–11047\) overlaps extended partition 2/ },
  { name: 'a logical partition overlapping the next EBR', damage: (p) => patchEntry(p, 10240, 0, { sectors: 5000 }), message: /logical partition 5 \(sectors 12288–17287\) overlaps the EBR at LBA 16384/ },
  { name: 'an EBR without the 0x55AA signature', damage: (p) => writeAt(p, 16384 * SECTOR + 510, new Uint8Array([0, 0])), message: /No MBR signature at EBR at LBA 16384: bytes 510–511 are 0x00 0x00/ },
  { name: 'a first EBR without the 0x55AA signature', damage: (p) => writeAt(p, 10240 * SECTOR + 510, new Uint8Array([0x55, 0x00])), message: /No MBR signature at EBR at LBA 10240/ },
  { name: 'LBA 0 without the 0x55AA signature', damage: (p) => writeAt(p, 510, new Uint8Array([0, 0])), message: /No MBR signature at LBA 0/ },
  { name: 'a truncated disk', damage: (p) => truncateSync(p, 20 * 1024 * 1024), message: /extended partition 2 \(sectors 10240–51199\) ends at sector 51199 but the disk has 40960 sectors/ },
  { name: 'two extended partitions', damage: (p) => patchEntry(p, 0, 3, { type: 0x0f, firstLba: 70000, sectors: 1000 }), message: /LBA 0 has 2 extended partitions; MBR allows one/ },
  { name: 'a zero-size extended partition', damage: (p) => patchEntry(p, 0, 1, { sectors: 0 }), message: /partition 2 is an extended partition \(type 0x05\) of size 0/ },
  { name: 'a primary partition at sector 0', damage: (p) => patchEntry(p, 0, 2, { firstLba: 0, sectors: 100 }), message: /partition 3 \(sectors 0–99\) starts at sector 0, which holds the MBR/ },
  { name: 'an EBR with a third entry in use', damage: (p) => patchEntry(p, 16384, 2, { type: 0x83, firstLba: 5000, sectors: 10 }), message: /EBR at LBA 16384 has entry 3 in use \(type 0x83, 10 sectors\)/ },
  { name: 'an EBR link of a non-extended type', damage: (p) => patchEntry(p, 10240, 1, { type: 0x83 }), message: /link entry of the EBR at LBA 10240 has type 0x83; expected an extended type/ },
  { name: 'an extended type in an EBR partition entry', damage: (p) => patchEntry(p, 16384, 0, { type: 0x05 }), message: /EBR at LBA 16384 has an extended type 0x05 in its partition entry/ },
  { name: 'a logical starting at its own EBR', damage: (p) => patchEntry(p, 16384, 0, { firstLba: 0 }), message: /logical partition 6 \(sectors 16384–20479\) starts at its own EBR/ },
  { name: 'an EBR chain longer than Linux reads', damage: (p) => longChain(p, 300), message: /EBR chain is longer than 256 EBRs at LBA 10752/ },
];

describe('reading damaged MBR tables', () => {
  for (const c of CASES) {
    test(`refuses ${c.name} with TABLE_CORRUPT and leaves the image unchanged`, async () => {
      await using image = await sparseImage(64 * 1024 * 1024);
      await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', image.path], { input: SCRIPT });
      c.damage(image.path);
      const before = sha256File(image.path);
      const sectorCount = Math.floor(statSync(image.path).size / SECTOR);
      let caught: unknown;
      {
        using reader = openReader(image.path, SECTOR, sectorCount);
        try {
          readMbrDisk(reader.read, { sectorSize: SECTOR, sectorCount });
        } catch (error) {
          caught = error;
        }
      }
      expect(isShadowError(caught, 'TABLE_CORRUPT'), `expected TABLE_CORRUPT, got ${String(caught)}`).toBe(true);
      expect((caught as Error).message).toMatch(c.message);
      expect(sha256File(image.path)).toBe(before);
    });
  }
});
