import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mount, run, tempDir } from '../../../test/helpers/index.js';
import { usedBlockCount, usedBlockMap, usedBytes } from './used-block-map.js';
import { copyUsedBlocksOnly, fileByteReader, fileHashes, fillWithFiles } from './used-blocks-testing.js';

const cases = [
  { name: '4 KiB clusters', sizeMiB: 200, mkfsArgs: [] as string[] },
  { name: '512-byte clusters', sizeMiB: 96, mkfsArgs: ['-c', '512'] },
  { name: '64 KiB clusters', sizeMiB: 256, mkfsArgs: ['-c', '65536'] },
];

describe('NTFS used-block map', () => {
  for (const c of cases) {
    it(`counts the clusters ntfscluster counts as used on NTFS with ${c.name}, and copying only those gives a volume ntfs-3g reads back unchanged`, async () => {
      await using scratch = await tempDir();
      const image = join(scratch.path, 'fs.img');
      const sizeBytes = c.sizeMiB * 1024 * 1024;
      await run('truncate', ['-s', String(sizeBytes), image]);
      await run('mkfs.ntfs', ['-F', '-f', '-q', ...c.mkfsArgs, image]);
      let expected: Map<string, string>;
      {
        await using loop = await loopDevice(image);
        await using mounted = await mount(loop.path, { type: 'ntfs-3g' });
        await fillWithFiles(mounted.mountpoint, c.sizeMiB, { files: 50, maxFileBytes: 3 * 1024 * 1024, sparse: true });
        expected = await fileHashes(mounted.mountpoint);
      }
      const info = (await run('ntfscluster', ['--force', image])).stdout;
      const field = (name: string) => Number(new RegExp(`${name}\\s*: (\\d+)`).exec(info)?.[1]);
      const totalClusters = Number(/Volume Size in Clusters: (\d+)/.exec((await run('ntfsinfo', ['--force', '--mft', image])).stdout)?.[1]);

      using reader = fileByteReader(image);
      const map = usedBlockMap(reader.read, reader.sizeBytes);
      expect(map).toMatchObject({ filesystem: 'ntfs', method: 'NTFS $Bitmap', blockSize: field('bytes per cluster') });
      // ntfscluster counts free clusters from $Bitmap; the backup boot sector past the last cluster adds one block.
      expect(usedBlockCount(map)).toBe(totalClusters - field('clusters of free space') + 1);

      const copy = join(scratch.path, 'copy.img');
      await copyUsedBlocksOnly(image, map, copy, sizeBytes);
      const fix = await run('ntfsfix', ['--no-action', copy], { allowFailure: true });
      expect(fix.code, fix.stdout + fix.stderr).toBe(0);
      await using copyLoop = await loopDevice(copy, { readOnly: true });
      await using copyMount = await mount(copyLoop.path, { type: 'ntfs-3g', options: ['ro'] });
      expect(await fileHashes(copyMount.mountpoint)).toEqual(expected);
    });
  }
});
