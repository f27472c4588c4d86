import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mount, run, tempDir } from '../../../test/helpers/index.js';
import { usedBlockCount, usedBlockMap, usedBytes } from './used-block-map.js';
import { copyUsedBlocksOnly, e2fsckUsedBlocks, fileByteReader, fileHashes, fillWithFiles } from './used-blocks-testing.js';

interface ExtCase {
  readonly name: string;
  readonly type: 'ext2' | 'ext3' | 'ext4';
  readonly sizeMiB: number;
  readonly mkfsArgs: readonly string[];
  readonly files: number;
  readonly expectUninitGroups?: boolean;
  /** A filesystem smaller than its volume: the blocks after it are not used. */
  readonly filesystemMiB?: number;
}

const cases: ExtCase[] = [
  { name: 'ext2', type: 'ext2', sizeMiB: 96, mkfsArgs: [], files: 60 },
  { name: 'ext3', type: 'ext3', sizeMiB: 96, mkfsArgs: [], files: 60 },
  { name: 'ext4 of 600 MiB as mkfs makes it by default (4 KiB blocks)', type: 'ext4', sizeMiB: 600, mkfsArgs: [], files: 80, expectUninitGroups: true },
  { name: 'ext4 without flex_bg', type: 'ext4', sizeMiB: 160, mkfsArgs: ['-O', '^flex_bg'], files: 60, expectUninitGroups: true },
  { name: 'ext4 with 64bit and meta_bg (1 KiB blocks: 20 groups in 2 meta groups)', type: 'ext4', sizeMiB: 160, mkfsArgs: ['-b', '1024', '-O', '64bit,meta_bg,^resize_inode'], files: 60, expectUninitGroups: true },
  { name: 'ext4 with uninit_bg instead of metadata_csum', type: 'ext4', sizeMiB: 128, mkfsArgs: ['-O', '^metadata_csum,uninit_bg'], files: 40, expectUninitGroups: true },
  { name: 'ext4 with sparse_super2, smaller than its volume', type: 'ext4', sizeMiB: 128, filesystemMiB: 100, mkfsArgs: ['-O', 'sparse_super2'], files: 40, expectUninitGroups: true },
  { name: 'ext4 of 1 GiB with 1 KiB blocks (128 groups)', type: 'ext4', sizeMiB: 1024, mkfsArgs: ['-b', '1024'], files: 120, expectUninitGroups: true },
];

describe('ext used-block map', () => {
  for (const c of cases) {
    it(`counts the blocks e2fsck counts on ${c.name}, and copying only those gives a clean filesystem with the same files`, async () => {
      await using scratch = await tempDir();
      const image = join(scratch.path, 'fs.img');
      const sizeBytes = c.sizeMiB * 1024 * 1024;
      await run('truncate', ['-s', String(sizeBytes), image]);
      await run(`mkfs.${c.type}`, ['-F', '-q', ...c.mkfsArgs, image, ...(c.filesystemMiB ? [`${c.filesystemMiB}M`] : [])]);
      let expected: Map<string, string>;
      {
        await using loop = await loopDevice(image);
        await using mounted = await mount(loop.path);
        await fillWithFiles(mounted.mountpoint, c.sizeMiB, { files: c.files, maxFileBytes: 3 * 1024 * 1024, sparse: true });
        expected = await fileHashes(mounted.mountpoint);
      }
      const checked = await run('e2fsck', ['-fn', image]);
      const { used, total } = e2fsckUsedBlocks(checked.stdout);

      using reader = fileByteReader(image);
      const map = usedBlockMap(reader.read, reader.sizeBytes);
      expect(map.filesystem).toBe(c.type);
      expect(map.method).toMatch(c.expectUninitGroups ? /block bitmaps \(\d+ BLOCK_UNINIT groups from layout\)/ : /block bitmaps$/);
      expect(map.totalBlocks).toBe(sizeBytes / map.blockSize);
      expect(total).toBe((c.filesystemMiB ?? c.sizeMiB) * 1024 * 1024 / map.blockSize);
      expect(usedBlockCount(map)).toBe(used);

      const copy = join(scratch.path, 'copy.img');
      expect(await copyUsedBlocksOnly(image, map, copy, sizeBytes)).toBe(usedBytes(map));
      const copyCheck = await run('e2fsck', ['-fn', copy], { allowFailure: true });
      expect(copyCheck.code, copyCheck.stdout + copyCheck.stderr).toBe(0);
      await using copyLoop = await loopDevice(copy, { readOnly: true });
      await using copyMount = await mount(copyLoop.path, { options: ['ro'] });
      expect(await fileHashes(copyMount.mountpoint)).toEqual(expected);
    });
  }
});
