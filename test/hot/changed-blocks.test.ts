// The changed-block map: after writes, discards and write-zeroes through the attached device, the engine's bitmap
// covers every block touched (no misses) with at most 5% extra, and each cbt-get starts a new generation.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocAligned, DirectFile } from '../../native/index.js';
import { prng, run, sparseImage } from '../helpers/index.js';
import type { ChangedBlockMap } from '../../plugins/hot-processing/index.js';
import { hotAttach, hotHost } from './hot-volume.js';

const MiB = 1024 * 1024;
const BLOCK = 4096;
const SECTOR = 512;

function blocksOf(bitmap: Buffer, blocks: number): Set<number> {
  const set = new Set<number>();
  for (let b = 0; b < blocks; b++) if (bitmap[b >> 3]! & (1 << (b & 7))) set.add(b);
  return set;
}

describe('changed-block map', () => {
  it('covers every block written, discarded or zeroed with at most 5% extra, one generation per cbt-get', async () => {
    await using hot = await hotHost();
    const sizeBytes = 64 * MiB;
    const blocks = sizeBytes / BLOCK;
    await using image = await sparseImage(sizeBytes, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    const first = await volume.client.takeChangedBlocks(join(hot.scratch, 'gen1.map'));
    expect(first).toMatchObject({ generation: 1, nextGeneration: 2, blocks });

    const random = prng(66);
    const touched = new Set<number>();
    const touch = (offsetBytes: number, lengthBytes: number) => {
      for (let b = Math.floor(offsetBytes / BLOCK); b <= Math.floor((offsetBytes + lengthBytes - 1) / BLOCK); b++) touched.add(b);
    };
    {
      using file = DirectFile.open(volume.device, 'r+');
      const buffer = allocAligned(64 * BLOCK);
      buffer.fill(0xa5);
      for (let i = 0; i < 400; i++) {
        // Sector-granular writes too: a 512-byte write marks the one 4 KiB block it lies in.
        const lengthBytes = random() < 0.3 ? SECTOR * (1 + Math.floor(random() * 7)) : BLOCK * (1 + Math.floor(random() * 64));
        const offsetBytes = SECTOR * Math.floor(random() * ((sizeBytes - lengthBytes) / SECTOR));
        await file.write(buffer.subarray(0, lengthBytes), BigInt(offsetBytes));
        touch(offsetBytes, lengthBytes);
      }
    }
    // The loop device turns these into fallocate(PUNCH_HOLE) and fallocate(ZERO_RANGE) on the FUSE file.
    await run('blkdiscard', ['--offset', String(40 * MiB), '--length', String(MiB), volume.device]);
    touch(40 * MiB, MiB);
    await run('blkdiscard', ['--zeroout', '--offset', String(50 * MiB), '--length', String(2 * MiB), volume.device]);
    touch(50 * MiB, 2 * MiB);

    const taken = await hot.host.executeCommand('shadowdisk.hot-processing.changed-blocks', { positionals: [volume.device, join(hot.scratch, 'gen2.map')] });
    const second = taken.data as ChangedBlockMap;
    expect(taken.text).toContain('generation 3 begins now');
    const marked = blocksOf(await readFile(second.path), blocks);
    const missed = [...touched].filter((b) => !marked.has(b));
    const extra = [...marked].filter((b) => !touched.has(b));
    expect(second).toMatchObject({ generation: 2, changedBlocks: marked.size });
    expect(missed).toEqual([]);
    expect(extra.length).toBeLessThanOrEqual(Math.ceil(touched.size * 0.05));

    const third = await volume.client.takeChangedBlocks(join(hot.scratch, 'gen3.map'));
    expect(third).toMatchObject({ generation: 3, changedBlocks: 0 });
    expect((await volume.client.status()).generation).toBe(4);
  });
});

describe('changed-block map across attachments', () => {
  it('survives a clean detach and is distrusted after the engine is killed', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(16 * MiB, { dir: hot.scratch });
    const writeBlocks = async (device: string, list: number[]) => {
      using file = DirectFile.open(device, 'r+');
      const buffer = allocAligned(BLOCK).fill(7);
      for (const b of list) await file.write(buffer, BigInt(b * BLOCK));
    };
    {
      await using volume = await hotAttach(hot, image.path);
      expect(await volume.client.status()).toMatchObject({ changedBlocksTrusted: false, changedBlocksDistrust: expect.stringContaining('first attachment') });
      expect(await volume.client.takeChangedBlocks(join(hot.scratch, 'first.map'))).toMatchObject({ generation: 1, trusted: false });
      await writeBlocks(volume.device, [3, 700, 2047]);
    }
    {
      await using volume = await hotAttach(hot, image.path);
      expect(await volume.client.status()).toMatchObject({ changedBlocksTrusted: true, generation: 2, changedBlocks: 3 });
      const map = await volume.client.takeChangedBlocks(join(hot.scratch, 'second.map'));
      expect(map).toMatchObject({ generation: 2, trusted: true });
      expect([...blocksOf(await readFile(map.path), map.blocks)]).toEqual([3, 700, 2047]);
      await writeBlocks(volume.device, [5]);
      process.kill(volume.attachment.pid, 'SIGKILL');
    }
    await using volume = await hotAttach(hot, image.path);
    expect(await volume.client.status()).toMatchObject({ changedBlocksTrusted: false, generation: 4, changedBlocksDistrust: expect.stringContaining('did not stop cleanly') });
  });
});
