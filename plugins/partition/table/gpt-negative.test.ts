// Negative corpus: damaged GPTs made by corrupting an sgdisk-made image; each gives a named error or a warning, reading never writes.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShadowError } from '../../../sdk/index.js';
import { fileReader } from '../../../test/conformance/gpt-judges.js';
import { run, sparseImage, tempDir, type TempDir } from '../../../test/helpers/index.js';
import { crc32 } from './crc32.js';
import { type GptDisk, readGptDisk } from './gpt-disk.js';
import { repairGpt, writeGptDisk } from './gpt-disk-write.js';
import { gptDiskToLayout } from './gpt-layout.js';
import { applyWrites } from './sector-io.js';

const SS = 512;
const SECTORS = 16384;
let original: Uint8Array;

beforeAll(async () => {
  await using image = await sparseImage(SECTORS * SS);
  await run('sgdisk', ['-U', '2ad4b8a0-6c1e-4b5a-9d57-3f7f6ad0c001', '-n', '1:2048:+1M', '-c', '1:boot', '-t', '1:ef00', '-n', '2:0:+2M', '-t', '2:8200', '-n', '3:0:+1M', '-c', '3:data', image.path]);
  original = new Uint8Array(await readFile(image.path));
});

const u32 = (image: Uint8Array, offset: number, value: number) => new DataView(image.buffer, image.byteOffset).setUint32(offset, value, true);
const u64 = (image: Uint8Array, offset: number, value: number) => new DataView(image.buffer, image.byteOffset).setBigUint64(offset, BigInt(value), true);
const BACKUP = SECTORS - 1;
const PRIMARY_ENTRIES = 2;
const BACKUP_ENTRIES = SECTORS - 33;

/** Recomputes the header CRC of the header at `lba` (after a deliberate edit), so only the edit is wrong. */
function fixHeaderCrc(image: Uint8Array, lba: number): void {
  const at = lba * SS;
  const size = Math.min(new DataView(image.buffer).getUint32(at + 12, true), SS);
  u32(image, at + 16, 0);
  u32(image, at + 16, crc32(image.subarray(at, at + size)));
}

/** Edits both copies of the entry array and fixes every CRC, so the entries themselves are the problem. */
function editEntries(image: Uint8Array, edit: (array: Uint8Array) => void): void {
  for (const [header, entries] of [[1, PRIMARY_ENTRIES], [BACKUP, BACKUP_ENTRIES]] as const) {
    const array = image.subarray(entries * SS, (entries + 32) * SS);
    edit(array);
    u32(image, header * SS + 88, crc32(array));
    fixHeaderCrc(image, header);
  }
}

function editHeaders(image: Uint8Array, which: readonly number[], edit: (at: number) => void): void {
  for (const lba of which) {
    edit(lba * SS);
    fixHeaderCrc(image, lba);
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Writes the image to a file, reads it with readGptDisk, and checks reading left the file's SHA-256 unchanged. */
async function readDamaged(dir: TempDir, image: Uint8Array, name: string): Promise<{ disk?: GptDisk; error?: ShadowError; path: string }> {
  const path = join(dir.path, `${name}.img`);
  await writeFile(path, image);
  const before = sha256(await readFile(path));
  let result: { disk?: GptDisk; error?: ShadowError };
  try {
    result = { disk: readGptDisk(fileReader(path, SS), { sectorSize: SS, sectorCount: image.length / SS }) };
  } catch (error) {
    if (!(error instanceof ShadowError)) throw error;
    result = { error };
  }
  expect(sha256(await readFile(path))).toBe(before);
  return { ...result, path };
}

async function expectCorrupt(image: Uint8Array, name: string, message: RegExp): Promise<void> {
  await using dir = await tempDir();
  const { error, disk } = await readDamaged(dir, image, name);
  expect(disk?.warnings).toBeUndefined();
  expect(error?.code).toBe('TABLE_CORRUPT');
  expect(error?.message).toMatch(message);
}

/** Reads with a warning, repairs, writes, and checks sgdisk -v and sfdisk --verify are clean and the layout survived. */
async function expectRepairable(image: Uint8Array, name: string, damaged: string | string[], warning: RegExp): Promise<Uint8Array> {
  await using dir = await tempDir();
  const { disk, error, path } = await readDamaged(dir, image, name);
  expect(error?.message).toBeUndefined();
  expect(disk!.damaged).toEqual(typeof damaged === 'string' ? [damaged] : damaged);
  expect(disk!.warnings.join('\n')).toMatch(warning);
  const expectedLayout = gptDiskToLayout(readGptDisk(fileReader(path, SS), disk!.geometry));
  const repaired = applyWrites(image, SS, writeGptDisk(repairGpt(disk!), disk!.geometry));
  await writeFile(path, repaired);
  expect((await run('sgdisk', ['-v', path])).stdout).toContain('No problems found.');
  const verify = await run('sfdisk', ['--verify', path]);
  expect([verify.stdout.includes('No errors detected.'), verify.stderr]).toEqual([true, '']);
  const again = readGptDisk(fileReader(path, SS), disk!.geometry);
  expect([again.damaged, again.warnings]).toEqual([[], []]);
  expect(gptDiskToLayout(again).partitions).toEqual(expectedLayout.partitions);
  return repaired;
}

const copy = () => original.slice();

describe('GPT negative corpus', () => {
  it('reads a disk with a bad primary header CRC from the backup, and repair restores the original bytes', async () => {
    const image = copy();
    image[SS + 60] ^= 0xff;
    const repaired = await expectRepairable(image, 'bad-primary-crc', 'primary', /primary GPT header at LBA 1 is damaged: header CRC32 is 0x[0-9a-f]{8} but the header's 92 bytes give/);
    expect(sha256(repaired)).toBe(sha256(original));
  });

  it('reads a disk with a bad backup header CRC from the primary, and repair restores the original bytes', async () => {
    const image = copy();
    image[BACKUP * SS + 60] ^= 0xff;
    const repaired = await expectRepairable(image, 'bad-backup-crc', 'backup', /backup GPT header at LBA 16383 is damaged: header CRC32/);
    expect(sha256(repaired)).toBe(sha256(original));
  });

  it('refuses a disk whose two headers both have bad CRCs, naming both', async () => {
    const image = copy();
    image[SS + 60] ^= 0xff;
    image[BACKUP * SS + 60] ^= 0xff;
    await expectCorrupt(image, 'both-bad', /^Both GPT copies are unusable: the primary GPT header at LBA 1 is damaged: header CRC32 .*; and the backup GPT header at LBA 16383 is damaged: header CRC32 .*restore the table from a backup or recreate it$/);
  });

  it('reads a disk whose primary entry array CRC is wrong from the backup', async () => {
    const image = copy();
    image[PRIMARY_ENTRIES * SS + 56] ^= 0x01;
    await expectRepairable(image, 'bad-entries-crc', 'primary', /entry array CRC32 is 0x[0-9a-f]{8} in the header but the 128 entries give 0x/);
  });

  it('refuses overlapping entries', async () => {
    const image = copy();
    editEntries(image, (array) => u64(array, 128 + 32, 3000));
    await expectCorrupt(image, 'overlap', /partition 2 \(sectors 3000–\d+\) overlaps partition 1 \(sectors 2048–4095\)/);
  });

  it('refuses a partition that ends past the end of the disk', async () => {
    const image = copy();
    editEntries(image, (array) => u64(array, 2 * 128 + 40, SECTORS + 5));
    await expectCorrupt(image, 'past-end', /partition 3 ends at sector 16389 but the disk has 16384 sectors \(last is 16383\)/);
  });

  it('refuses a partition that starts before the first usable sector', async () => {
    const image = copy();
    editEntries(image, (array) => u64(array, 32, 20));
    await expectCorrupt(image, 'before-usable', /partition 1 spans sectors 20–4095, outside the usable range 34–16350/);
  });

  it('refuses a disk without the EFI PART signature in either header', async () => {
    const image = copy();
    image[SS] = 0x58;
    image[BACKUP * SS] = 0x58;
    await expectCorrupt(image, 'bad-signature', /signature is 'XFI PART', expected 'EFI PART'/);
  });

  it('refuses headers smaller than 92 bytes', async () => {
    const image = copy();
    editHeaders(image, [1, BACKUP], (at) => u32(image, at + 12, 91));
    await expectCorrupt(image, 'header-small', /header size is 91 bytes, expected 92–512 \(the sector size\)/);
  });

  it('reads the backup when the primary header claims more bytes than a sector', async () => {
    const image = copy();
    u32(image, SS + 12, 600);
    await expectRepairable(image, 'header-large', 'primary', /header size is 600 bytes, expected 92–512/);
  });

  it('refuses an entry array larger than 1 MiB', async () => {
    const image = copy();
    editHeaders(image, [1, BACKUP], (at) => u32(image, at + 80, 100_000));
    await expectCorrupt(image, 'oversized-array', /the partition entry array is 100000 × 128 = 12800000 bytes, more than the 1048576 bytes/);
  });

  it('refuses entry sizes that are not 128 times a power of two', async () => {
    for (const size of [200, 384, 64]) {
      const image = copy();
      editHeaders(image, [1, BACKUP], (at) => u32(image, at + 84, size));
      await expectCorrupt(image, `entry-size-${size}`, new RegExp(`partition entry size is ${size} bytes, expected 128 × a power of two`));
    }
  });

  it('refuses a first usable LBA after the last usable LBA', async () => {
    const image = copy();
    editHeaders(image, [1, BACKUP], (at) => u64(image, at + 40, 16351));
    await expectCorrupt(image, 'first-after-last', /first usable LBA 16351 is after last usable LBA 16350/);
  });

  it('reads a truncated disk whose partitions still fit with a warning, and repair moves the backup to the new end', async () => {
    const image = original.slice(0, (SECTORS - 2048) * SS);
    await expectRepairable(image, 'truncated', ['protective-mbr', 'backup'], /protective MBR covers 16383 sectors but the disk has 14336[^]*backup GPT header at LBA 16383 lies past the end of the disk \(14336 sectors\): the disk is truncated/);
  });

  it('refuses a truncated disk that cuts a partition off, naming both copies', async () => {
    const image = original.slice(0, 8000 * SS);
    await expectCorrupt(image, 'truncated-partition', /^Both GPT copies are unusable: the primary GPT header at LBA 1 is damaged: partition 2 ends at sector 8191 but the disk has 8000 sectors \(last is 7999\); and the backup GPT header at LBA 16383 lies past the end of the disk/);
  });

  it('reads a disk without a protective MBR with a warning, and repair writes one', async () => {
    const image = copy();
    image.fill(0, 0, SS);
    const repaired = await expectRepairable(image, 'no-mbr', 'protective-mbr', /LBA 0 holds no protective MBR/);
    expect(Array.from(repaired.subarray(446, 462))).toEqual([0, 0, 2, 0, 0xee, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0xff, 0x3f, 0, 0]);
  });

  it('refuses a GPT behind an MBR partition table without a protective entry', async () => {
    const image = copy();
    image[446 + 4] = 0x83;
    await expectCorrupt(image, 'foreign-mbr', /LBA 0 holds an MBR partition table \(types 0x83\) without a 0xee protective entry/);
  });

  it('reads the backup when the primary header says it lives elsewhere', async () => {
    const image = copy();
    editHeaders(image, [1], (at) => u64(image, at + 24, 7));
    await expectRepairable(image, 'wrong-my-lba', 'primary', /it says it is at LBA 7/);
  });

  it('keeps a hybrid MBR and its boot code byte for byte', async () => {
    const image = copy();
    image.fill(0x90, 0, 440);
    image.set([0x80, 1, 1, 0, 0x0c, 0xfe, 0xff, 0xff, 0x00, 0x08, 0, 0, 0x00, 0x08, 0, 0], 446 + 16);
    await using dir = await tempDir();
    const { disk } = await readDamaged(dir, image, 'hybrid');
    expect([disk!.mbrKind, disk!.warnings]).toEqual(['hybrid', []]);
    expect(sha256(applyWrites(image, SS, writeGptDisk(disk!, disk!.geometry)))).toBe(sha256(image));
  });
});
