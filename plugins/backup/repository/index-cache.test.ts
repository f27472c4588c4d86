import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexCache } from './index-cache.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowdisk-index-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('index copies', () => {
  it('keeps and returns the bytes of an index object by its key, and drops them', async () => {
    const cache = new IndexCache(join(dir, 'repo-id'));
    expect(await cache.get('index/aa')).toBeUndefined();
    await cache.put('index/aa', Buffer.from('sealed'));
    expect((await cache.get('index/aa'))?.toString()).toBe('sealed');
    await cache.drop('index/aa');
    expect(await cache.get('index/aa')).toBeUndefined();
  });

  it('never fails a caller when the copy cannot be written', async () => {
    await writeFile(join(dir, 'a-file'), 'not a folder');
    const cache = new IndexCache(join(dir, 'a-file', 'repo-id'));
    await expect(cache.put('index/aa', Buffer.from('sealed'))).resolves.toBeUndefined();
    expect(await cache.get('index/aa')).toBeUndefined();
    await expect(cache.retain([], Date.now())).resolves.toBeUndefined();
  });

  it('removes copies the store no longer lists and half-written ones an hour old, not younger ones', async () => {
    const cache = new IndexCache(dir);
    for (const name of ['aa', 'bb', 'cc']) await cache.put(`index/${name}`, Buffer.from(name));
    await writeFile(join(dir, 'dd.tmp-young'), 'at work');
    await writeFile(join(dir, 'ee.tmp-old'), 'left by a dead process');
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const name of ['aa', 'bb', 'cc', 'dd.tmp-young', 'ee.tmp-old']) await utimes(join(dir, name), hoursAgo, hoursAgo);
    await utimes(join(dir, 'dd.tmp-young'), new Date(), new Date(Date.now() - 60_000));
    const listedAt = Date.now();
    // Another process's copy of an object written after the listing stays.
    await cache.put('index/ff', Buffer.from('newer than the listing'));
    await cache.retain(['index/aa', 'index/cc'], listedAt);
    expect((await readdir(dir)).sort()).toEqual(['aa', 'cc', 'dd.tmp-young', 'ff']);
  });
});
