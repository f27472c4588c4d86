import { mkdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempDir } from '../../../test/helpers/index.js';
import { usedBlockCount, usedBlockMap, usedBytes } from './used-block-map.js';
import { copyUsedBlocksOnly, fileByteReader, fileHashes, fillWithFiles } from './used-blocks-testing.js';

// mtools refuses images whose BPB geometry does not match its own idea of a floppy or disk unless told not to check.
process.env['MTOOLS_SKIP_CHECK'] = '1';

const cases = [
  { fatType: 12, sizeMiB: 12, mkfsArgs: ['-s', '8'], files: 30, maxFileBytes: 600 * 1024 },
  { fatType: 16, sizeMiB: 128, mkfsArgs: [], files: 50, maxFileBytes: 3 * 1024 * 1024 },
  { fatType: 16, sizeMiB: 64, mkfsArgs: ['-a', '-s', '8'], files: 40, maxFileBytes: 2 * 1024 * 1024 },
  { fatType: 32, sizeMiB: 300, mkfsArgs: ['-s', '8'], files: 60, maxFileBytes: 3 * 1024 * 1024 },
  { fatType: 32, sizeMiB: 128, mkfsArgs: ['-s', '1'], files: 40, maxFileBytes: 2 * 1024 * 1024 },
] as const;

describe('FAT used-block map', () => {
  for (const c of cases) {
    it(`counts the clusters fsck.fat counts on FAT${c.fatType} (${c.sizeMiB} MiB, mkfs.vfat ${c.mkfsArgs.join(' ')}), and copying only those gives the same files`, async () => {
      await using scratch = await tempDir();
      const image = join(scratch.path, 'fs.img');
      const staging = join(scratch.path, 'staging');
      const sizeBytes = c.sizeMiB * 1024 * 1024;
      await run('truncate', ['-s', String(sizeBytes), image]);
      await run('mkfs.vfat', ['-F', String(c.fatType), ...c.mkfsArgs, image]);
      const { doomed } = await fillWithFiles(staging, c.fatType + c.sizeMiB, { files: c.files, maxFileBytes: c.maxFileBytes, keepDoomed: true });
      await run('mcopy', ['-s', '-i', image, join(staging, 'dir0'), join(staging, 'dir1'), join(staging, 'dir2'), join(staging, 'dir3'), '::/']);
      // Delete after copying, so the files that stay are spread over clusters with holes between them.
      for (const path of doomed) {
        await run('mdel', ['-i', image, `::/${relative(staging, path)}`]);
        await rm(path);
      }
      const expected = await fileHashes(staging);
      const checked = await run('fsck.fat', ['-vn', image]);
      const usedClusters = Number(/ (\d+)\/(\d+) clusters/.exec(checked.stdout)?.[1]);
      const dataStart = Number(/Data area starts at byte (\d+)/.exec(checked.stdout)?.[1]);

      using reader = fileByteReader(image);
      const map = usedBlockMap(reader.read, reader.sizeBytes);
      expect(map.filesystem).toBe('vfat');
      expect(map.method).toBe(`FAT${c.fatType}`);
      // The map's blocks are clusters counted from byte 0; the data area starts cluster-aligned or mid-block.
      const metadataBlocks = Math.ceil(dataStart / map.blockSize);
      const straddle = dataStart % map.blockSize === 0 ? 0 : 1;
      expect(usedBlockCount(map) - metadataBlocks).toBeGreaterThanOrEqual(usedClusters);
      expect(usedBlockCount(map) - metadataBlocks).toBeLessThanOrEqual(usedClusters * (1 + straddle));
      if (!straddle) expect(usedBytes(map)).toBe(dataStart + usedClusters * map.blockSize);

      const copy = join(scratch.path, 'copy.img');
      await copyUsedBlocksOnly(image, map, copy, sizeBytes);
      const copyCheck = await run('fsck.fat', ['-n', copy], { allowFailure: true });
      expect(copyCheck.code, copyCheck.stdout + copyCheck.stderr).toBe(0);
      const restored = join(scratch.path, 'restored');
      await mkdir(restored);
      await run('mcopy', ['-s', '-i', copy, '::/dir0', '::/dir1', '::/dir2', '::/dir3', restored + '/']);
      expect(await fileHashes(restored)).toEqual(expected);
    });
  }
});
