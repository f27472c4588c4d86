import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeList, encodeList, listBlobs, type ChunkEntry } from './chunk-lists.js';
import { deriveKeys } from './repository-keys.js';

const keys = deriveKeys(randomBytes(32));
const entry = (n: number): ChunkEntry => [createHmac('sha256', 'test').update(String(n)).digest('hex'), 1000 + n];
const ids = (list: readonly ChunkEntry[]) => listBlobs(keys, list).map((b) => b.id);

describe('chunk lists', () => {
  it('encodes 36 bytes an entry and decodes them back', () => {
    const list = Array.from({ length: 300 }, (_, i) => entry(i));
    const plain = encodeList(list);
    expect(plain.length).toBe(300 * 36);
    expect(decodeList(plain, 'test list')).toEqual(list);
  });

  it('names a list blob that is not whole entries', () => {
    expect(() => decodeList(Buffer.alloc(37), 'Chunk list ab in data/ab/abc')).toThrow(/Chunk list ab in data\/ab\/abc is 37 bytes, not a whole number of 36-byte entries/);
  });

  it('cuts a list into runs by content that hold every entry once, in order', () => {
    const list = Array.from({ length: 20_000 }, (_, i) => entry(i));
    const blobs = listBlobs(keys, list);
    expect(blobs.flatMap((b) => decodeList(b.plain, 'run'))).toEqual(list);
    expect(blobs.reduce((n, b) => n + b.entries, 0)).toBe(list.length);
    // One id in 64 ends a run.
    expect(blobs.length).toBeGreaterThan(20_000 / 64 / 2);
    expect(blobs.length).toBeLessThan(20_000 / 64 * 2);
    expect(Math.max(...blobs.map((b) => b.entries))).toBeLessThanOrEqual(1024);
  });

  it('stores again only the runs around a changed, inserted or removed entry', () => {
    const list = Array.from({ length: 20_000 }, (_, i) => entry(i));
    const before = new Set(ids(list));
    const changed = list.map((e, i) => (i === 10_000 ? entry(-1) : e));
    const inserted = [...list.slice(0, 5_000), entry(-2), entry(-3), ...list.slice(5_000)];
    const removed = list.filter((_, i) => i !== 15_000);
    for (const other of [changed, inserted, removed]) {
      const fresh = ids(other).filter((id) => !before.has(id));
      expect(fresh.length).toBeGreaterThanOrEqual(1);
      expect(fresh.length).toBeLessThanOrEqual(2);
    }
  });

  it('cuts a list with no anchor at 1024 entries', () => {
    const list: ChunkEntry[] = [];
    for (let n = 0; list.length < 3000; n++) if ((parseInt(entry(n)[0].slice(0, 2), 16) & 0x3f) !== 0) list.push(entry(n));
    expect(listBlobs(keys, list).map((b) => b.entries)).toEqual([1024, 1024, 952]);
  });
});
