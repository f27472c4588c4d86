import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempDir } from '../../../test/helpers/index.js';
import { usedBlockMap, usedRuns } from './used-block-map.js';
import { copyUsedBlocksOnly, fileByteReader } from './used-blocks-testing.js';

describe('swap used-block map', () => {
  it('marks only the header page of a swap area full of old pages, and the copy is the same swap area to blkid', async () => {
    await using scratch = await tempDir();
    const image = join(scratch.path, 'swap.img');
    const sizeBytes = 64 * 1024 * 1024;
    await run('truncate', ['-s', String(sizeBytes), image]);
    await run('mkswap', ['-L', 'shadowswap', '-U', '4f1c3a52-5d0e-4c7e-9a55-0b2f9c1d7e11', image]);
    // Swapped-out pages from an earlier life: not worth copying.
    const handle = await open(image, 'r+');
    await handle.write(randomBytes(1024 * 1024), 0, 1024 * 1024, 8 * 1024 * 1024);
    await handle.close();

    using reader = fileByteReader(image);
    const map = usedBlockMap(reader.read, reader.sizeBytes);
    expect(map).toMatchObject({ filesystem: 'swap', method: 'swap header', blockSize: 4096, totalBlocks: sizeBytes / 4096 });
    expect(usedRuns(map)).toEqual([{ startBlock: 0, blockCount: 1 }]);

    const copy = join(scratch.path, 'copy.img');
    await copyUsedBlocksOnly(image, map, copy, sizeBytes);
    const probe = async (path: string) => (await run('blkid', ['-p', '-o', 'export', path])).stdout.replace(/^DEVNAME=.*\n/m, '');
    expect(await probe(copy)).toBe(await probe(image));
    expect(await probe(copy)).toMatch(/TYPE=swap[\s\S]*LABEL=shadowswap|LABEL=shadowswap[\s\S]*TYPE=swap/);
  });

  it('names the bad pages a swap header lists and still copies only the header page', async () => {
    await using scratch = await tempDir();
    const image = join(scratch.path, 'swap.img');
    await run('truncate', ['-s', String(16 * 1024 * 1024), image]);
    await run('mkswap', [image]);
    // mkswap -c would need a real bad disk: write nr_badpages = 2 and the list by hand.
    const handle = await open(image, 'r+');
    const list = Buffer.alloc(12);
    list.writeUInt32LE(2, 0);
    await handle.write(list, 0, 4, 1032);
    list.writeUInt32LE(100, 4);
    list.writeUInt32LE(200, 8);
    await handle.write(list, 4, 8, 1536);
    await handle.close();
    using reader = fileByteReader(image);
    const map = usedBlockMap(reader.read, reader.sizeBytes);
    expect(map.method).toBe('swap header (with 2 bad pages listed)');
    expect(usedRuns(map)).toEqual([{ startBlock: 0, blockCount: 1 }]);
  });
});
