import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mount, run, tempDir } from '../../../test/helpers/index.js';
import { usedBlockCount, usedBlockMap, usedBytes } from './used-block-map.js';
import { copyUsedBlocksOnly, fileByteReader, fileHashes, fillWithFiles } from './used-blocks-testing.js';

const MiB = 1024 * 1024;

interface BtrfsCase {
  name: string;
  sizeMiB: number;
  mkfsArgs: string[];
  /** 'rootdir': mkfs.btrfs --rootdir copies a staging tree in; 'mount': files written (then a third deleted) through a loop mount. */
  populate: 'rootdir' | 'mount';
  mountOptions?: string[];
  method?: string;
  /** Many small files instead of the default 110 of up to 2 MiB; with small nodes the extent tree grows interior nodes. */
  manySmallFiles?: boolean;
}

const METHOD = 'btrfs extent tree mapped through the chunk tree';

const cases: BtrfsCase[] = [
  { name: 'made by mkfs --rootdir with the defaults (DUP metadata, free-space tree)', sizeMiB: 400, mkfsArgs: [], populate: 'rootdir' },
  { name: 'written through a mount with a third of the files deleted', sizeMiB: 400, mkfsArgs: [], populate: 'mount' },
  { name: 'with SINGLE metadata, SHA-256 checksums and 4 KiB nodes, written through a zstd-compressing mount', sizeMiB: 320, mkfsArgs: ['-m', 'single', '--csum', 'sha256', '-n', '4096'], populate: 'mount', mountOptions: ['compress=zstd'] },
  { name: 'with the v1 space cache instead of the free-space tree', sizeMiB: 320, mkfsArgs: ['-R', '^free-space-tree'], populate: 'mount', mountOptions: ['space_cache=v1'] },
  { name: 'with mixed data and metadata block groups', sizeMiB: 320, mkfsArgs: ['--mixed'], populate: 'mount' },
  { name: 'with 4 KiB nodes holding 3000 small files, so the extent tree has interior nodes', sizeMiB: 400, mkfsArgs: ['-n', '4096'], populate: 'rootdir', manySmallFiles: true },
  { name: 'with xxhash64 checksums (read without verifying them)', sizeMiB: 320, mkfsArgs: ['--csum', 'xxhash'], populate: 'rootdir', method: `${METHOD} (xxhash64 checksums not verified)` },
];

/**
 * btrfs-progs' own count of used blocks: the reserved first MiB, the superblock mirror at 64 MiB when it fits, and each
 * block group's used bytes from `dump-tree` (its BLOCK_GROUP_ITEMs), twice for DUP.
 */
function progsUsedBlocks(extentTreeDump: string, sizeBytes: number, blockSize: number): number {
  const groups = [...extentTreeDump.matchAll(/block group used (\d+) chunk_objectid \d+ flags (\S+)/g)];
  expect(groups.length, 'dump-tree printed no block groups').toBeGreaterThan(0);
  let bytes = MiB + (64 * MiB + 4096 <= sizeBytes ? blockSize : 0);
  for (const [, used, flags] of groups) bytes += Number(used) * (flags!.includes('DUP') ? 2 : 1);
  return bytes / blockSize;
}

/** Bytes the files hold on disk (st_blocks), or their full length where holes are filled in: what the map should be near. */
async function dataBytesOf(paths: string[], holes: 'kept' | 'filled'): Promise<number> {
  let bytes = 0;
  for (const path of paths) {
    const { blocks, size } = await stat(path);
    bytes += holes === 'kept' ? blocks * 512 : size;
  }
  return bytes;
}

describe('btrfs used-block map', () => {
  for (const c of cases) {
    it(`counts what btrfs-progs counts on btrfs ${c.name}, and copying only those blocks gives a volume btrfs check accepts with the same files`, async () => {
      await using scratch = await tempDir();
      const image = join(scratch.path, 'fs.img');
      const sizeBytes = c.sizeMiB * MiB;
      await run('truncate', ['-s', String(sizeBytes), image]);
      const fill = c.manySmallFiles ? { files: 3000, maxFileBytes: 64 * 1024, directories: 30 } : { files: 110, maxFileBytes: 2 * MiB, directories: 6, sparse: true };
      let expected: Map<string, string>;
      let dataBytes: number;
      if (c.populate === 'rootdir') {
        const staging = join(scratch.path, 'staging');
        const { kept } = await fillWithFiles(staging, c.sizeMiB, fill);
        expected = await fileHashes(staging);
        // mkfs.btrfs --rootdir (progs 6.2) writes a sparse file's holes out as zeros.
        dataBytes = await dataBytesOf(kept, 'filled');
        await run('mkfs.btrfs', ['-q', '-f', ...c.mkfsArgs, '--rootdir', staging, image]);
      } else {
        await run('mkfs.btrfs', ['-q', '-f', ...c.mkfsArgs, image]);
        await using loop = await loopDevice(image);
        await using mounted = await mount(loop.path, { options: c.mountOptions ?? [] });
        const { kept } = await fillWithFiles(mounted.mountpoint, c.sizeMiB, fill);
        // Text compresses (zstd mounts store it in compressed extents); random bytes do not.
        const extra = [join(mounted.mountpoint, 'dir0', 'notes.txt'), join(mounted.mountpoint, 'dir1', 'late.bin')];
        await writeFile(extra[0]!, 'shadowdisk btrfs used blocks\n'.repeat(200_000));
        await writeFile(extra[1]!, randomBytes(3 * MiB));
        await run('sync', ['-f', mounted.mountpoint]);
        expected = await fileHashes(mounted.mountpoint);
        dataBytes = await dataBytesOf([...kept, ...extra], 'kept');
      }

      using reader = fileByteReader(image);
      const map = usedBlockMap(reader.read, reader.sizeBytes);
      expect(map).toMatchObject({ filesystem: 'btrfs', method: c.method ?? METHOD, blockSize: 4096 });
      const extentTree = (await run('btrfs', ['inspect-internal', 'dump-tree', '-t', 'extent', image])).stdout;
      expect(usedBlockCount(map)).toBe(progsUsedBlocks(extentTree, sizeBytes, map.blockSize));
      if (c.manySmallFiles) expect(extentTree).toMatch(/^node \d+ level [1-7] /m);
      // Clearly less than the volume, and near the data: metadata and the reserved MiB add little on top.
      expect(usedBytes(map)).toBeLessThan(sizeBytes / 3);
      expect(usedBytes(map)).toBeLessThan(dataBytes + 12 * MiB);

      const copy = join(scratch.path, 'copy.img');
      await copyUsedBlocksOnly(image, map, copy, sizeBytes);
      const check = await run('btrfs', ['check', '--readonly', '--check-data-csum', copy], { allowFailure: true });
      expect(check.code, check.stdout + check.stderr).toBe(0);
      await using copyLoop = await loopDevice(copy, { readOnly: true });
      await using copyMount = await mount(copyLoop.path, { options: ['ro'] });
      expect(await fileHashes(copyMount.mountpoint)).toEqual(expected);
    });
  }
});
