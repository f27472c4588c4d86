import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prng, run, tempDir } from '../../../test/helpers/index.js';
import { detectFilesystem } from './detect-filesystem.js';
import { isBlockUsed, usedBlockCount, usedBlockMap, usedBytes, usedRuns, type UsedBlockMap } from './used-block-map.js';
import { UsedBlockMapBuilder } from './used-block-map-builder.js';
import { fileByteReader } from './used-blocks-testing.js';

const readerOf = (bytes: Uint8Array) => (offset: number, length: number) => {
  if (offset < 0 || offset + length > bytes.length) throw new RangeError(`Read past the end at ${offset}+${length}`);
  return bytes.slice(offset, offset + length);
};

describe('used-block map helpers', () => {
  it('marks block and byte ranges LSB-first and clips them to the map', () => {
    const builder = new UsedBlockMapBuilder(512, 30);
    builder.markUsed(3, 10);
    builder.markBytes(512 * 20 + 1, 512); // touches blocks 20 and 21
    builder.markUsed(28, 100);
    const map = builder.build('test', 'by hand');
    expect([...map.bitmap]).toEqual([0b11111000, 0b00011111, 0b00110000, 0b00110000]);
    expect(usedRuns(map)).toEqual([{ startBlock: 3, blockCount: 10 }, { startBlock: 20, blockCount: 2 }, { startBlock: 28, blockCount: 2 }]);
    expect(usedBytes(map)).toBe(14 * 512);
    expect(isBlockUsed(map, 3)).toBe(true);
    expect(isBlockUsed(map, 2)).toBe(false);
    expect(isBlockUsed(map, 30)).toBe(false);
  });

  it('finds the same runs and counts as a bit-by-bit scan on random maps', () => {
    const random = prng(5);
    for (let round = 0; round < 200; round++) {
      const totalBlocks = Math.floor(random() * 300);
      const builder = new UsedBlockMapBuilder(4096, totalBlocks);
      for (let i = 0; i < 6; i++) builder.markUsed(Math.floor(random() * totalBlocks), Math.floor(random() * 40));
      for (let i = 0; i < 3; i++) builder.markFree(Math.floor(random() * totalBlocks), Math.floor(random() * 30));
      const map = builder.build('test', 'random');
      const expected: { startBlock: number; blockCount: number }[] = [];
      for (let block = 0; block < totalBlocks; block++) {
        if (!isBlockUsed(map, block)) continue;
        const last = expected.at(-1);
        if (last && last.startBlock + last.blockCount === block) last.blockCount++;
        else expected.push({ startBlock: block, blockCount: 1 });
      }
      expect(usedRuns(map)).toEqual(expected);
      expect(usedBlockCount(map)).toBe(expected.reduce((sum, run) => sum + run.blockCount, 0));
    }
  });

  it('ORs a filesystem bitmap in at aligned and unaligned first blocks', () => {
    for (const first of [0, 1, 8, 13]) {
      const builder = new UsedBlockMapBuilder(1024, 64);
      builder.markFromBitmap(Uint8Array.of(0b10000001, 0xff, 0b00000101), 19, first);
      const used = [0, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18].map((bit) => bit + first);
      const map: UsedBlockMap = builder.build('test', 'bitmap');
      expect(Array.from({ length: 64 }, (_, i) => i).filter((i) => isBlockUsed(map, i))).toEqual(used);
    }
  });
});

describe('filesystem detection', () => {
  it('maps a volume of random bytes as every 4096-byte block used', () => {
    const random = prng(42);
    const bytes = Uint8Array.from({ length: 1024 * 1024 + 100 }, () => Math.floor(random() * 256));
    const map = usedBlockMap(readerOf(bytes), bytes.length);
    expect(map).toMatchObject({ filesystem: 'unknown', method: 'all blocks', blockSize: 4096, totalBlocks: 257 });
    expect(usedRuns(map)).toEqual([{ startBlock: 0, blockCount: 257 }]);
  });

  it('maps a volume too small to hold any superblock as unknown instead of failing', () => {
    expect(detectFilesystem(readerOf(new Uint8Array(300)), 300)).toBe('unknown');
    expect(usedBlockMap(readerOf(new Uint8Array(0)), 0).totalBlocks).toBe(0);
  });

  it('names each filesystem its mkfs made, and maps a fresh btrfs by its extent tree', async () => {
    await using scratch = await tempDir();
    const made: [string[], string][] = [
      [['mkfs.ext4', '-q', '-F'], 'ext'],
      [['mkfs.xfs', '-q', '-f'], 'xfs'],
      [['mkfs.btrfs', '-q', '-f'], 'btrfs'],
      [['mkfs.vfat'], 'vfat'],
      [['mkfs.ntfs', '-q', '-F', '-f'], 'ntfs'],
      [['mkswap'], 'swap'],
      [['mkfs.exfat'], 'unknown'],
    ];
    for (const [[command, ...args], expected] of made) {
      const image = join(scratch.path, `${command}.img`);
      await run('truncate', ['-s', '320M', image]);
      await run(command!, [...args, image]);
      using reader = fileByteReader(image);
      expect(detectFilesystem(reader.read, reader.sizeBytes), command).toBe(expected);
      if (expected === 'btrfs') {
        const map = usedBlockMap(reader.read, reader.sizeBytes);
        expect(map.method).toBe('btrfs extent tree mapped through the chunk tree');
        expect(usedBlockCount(map)).toBeLessThan(map.totalBlocks / 10);
      }
    }
  });
});
