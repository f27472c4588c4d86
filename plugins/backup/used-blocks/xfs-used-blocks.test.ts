import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mount, run, tempDir } from '../../../test/helpers/index.js';
import { usedBlockCount, usedBlockMap, usedBytes } from './used-block-map.js';
import { copyUsedBlocksOnly, fileByteReader, fileHashes, fillWithFiles } from './used-blocks-testing.js';

const cases = [
  { name: 'v5 (CRC) with the default features', sizeMiB: 400, mkfsArgs: [] as string[] },
  { name: 'v5 with 1 KiB blocks and 6 AGs', sizeMiB: 480, mkfsArgs: ['-b', 'size=1024', '-d', 'agcount=6', '-l', 'size=64m'] },
];

describe('XFS used-block map', () => {
  for (const c of cases) {
    it(`counts the blocks xfs_db freesp leaves on XFS ${c.name}, and copying only those gives a filesystem xfs_repair accepts with the same files`, async () => {
      await using scratch = await tempDir();
      const image = join(scratch.path, 'fs.img');
      const sizeBytes = c.sizeMiB * 1024 * 1024;
      await run('truncate', ['-s', String(sizeBytes), image]);
      await run('mkfs.xfs', ['-f', '-q', ...c.mkfsArgs, image]);
      let expected: Map<string, string>;
      {
        await using loop = await loopDevice(image);
        await using mounted = await mount(loop.path);
        await fillWithFiles(mounted.mountpoint, c.sizeMiB, { files: 80, maxFileBytes: 3 * 1024 * 1024, sparse: true, directories: 8 });
        expected = await fileHashes(mounted.mountpoint);
      }
      const db = (await run('xfs_db', ['-r', '-c', 'sb 0', '-c', 'p dblocks', '-c', 'freesp -s', image])).stdout;
      const dataBlocks = Number(/dblocks = (\d+)/.exec(db)?.[1]);
      const freeBlocks = Number(/total free blocks (\d+)/.exec(db)?.[1]);

      using reader = fileByteReader(image);
      const map = usedBlockMap(reader.read, reader.sizeBytes);
      expect(map).toMatchObject({ filesystem: 'xfs', method: 'XFS free-space B+trees (bnobt)' });
      expect(usedBlockCount(map)).toBe(dataBlocks - freeBlocks);

      const copy = join(scratch.path, 'copy.img');
      await copyUsedBlocksOnly(image, map, copy, sizeBytes);
      const repair = await run('xfs_repair', ['-n', '-f', copy], { allowFailure: true });
      expect(repair.code, repair.stdout + repair.stderr).toBe(0);
      await using copyLoop = await loopDevice(copy, { readOnly: true });
      await using copyMount = await mount(copyLoop.path, { options: ['ro', 'nouuid'] });
      expect(await fileHashes(copyMount.mountpoint)).toEqual(expected);
    });
  }
});

describe('XFS v4 used-block map', () => {
  // This kernel mounts no V4 (crc=0) XFS, so the filesystem stays empty: judged by freesp and xfs_repair only.
  it('counts the blocks xfs_db freesp leaves on an empty XFS v4, and copying only those gives a filesystem xfs_repair accepts', async () => {
    await using scratch = await tempDir();
    const image = join(scratch.path, 'fs.img');
    const sizeBytes = 320 * 1024 * 1024;
    await run('truncate', ['-s', String(sizeBytes), image]);
    await run('mkfs.xfs', ['-f', '-q', '-m', 'crc=0,finobt=0,reflink=0,rmapbt=0', '-i', 'sparse=0', image]);
    const db = (await run('xfs_db', ['-r', '-c', 'sb 0', '-c', 'p dblocks', '-c', 'freesp -s', image])).stdout;
    using reader = fileByteReader(image);
    const map = usedBlockMap(reader.read, reader.sizeBytes);
    expect(usedBlockCount(map)).toBe(Number(/dblocks = (\d+)/.exec(db)?.[1]) - Number(/total free blocks (\d+)/.exec(db)?.[1]));
    const copy = join(scratch.path, 'copy.img');
    await copyUsedBlocksOnly(image, map, copy, sizeBytes);
    const repair = await run('xfs_repair', ['-n', '-f', copy], { allowFailure: true });
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
  });
});
