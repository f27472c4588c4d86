import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeList, encodeList, listBlobs, type ChunkEntry } from './chunk-lists.js';
import { deriveKeys } from './repository-keys.js';

// Version 2 repositories: 16-byte chunk ids.
const keys = deriveKeys(randomBytes(32), 16);
const entry = (n: number, idBytes = 16): ChunkEntry => [createHmac('sha256', 'test').update(String(n)).digest().toString('hex', 0, idBytes), 1000 + n];
const ids = (list: readonly ChunkEntry[]) => listBlobs(keys, list).map((b) => b.id);

describe('chunk lists', () => {
  it('encodes 20 bytes an entry with 16-byte ids (36 with 32-byte ones, version 1) and decodes them back', () => {
    for (const [idBytes, size] of [[16, 20], [32, 36]] as const) {
      const list = Array.from({ length: 300 }, (_, i) => entry(i, idBytes));
      const plain = encodeList(list, idBytes);
      expect(plain.length).toBe(300 * size);
      expect(decodeList(plain, idBytes, 'test list')).toEqual(list);
    }
    expect(() => encodeList([entry(1, 32)], 16)).toThrow(/is not 32 hex digits/);
  });

  it('names a list blob that is not whole entries', () => {
    expect(() => decodeList(Buffer.alloc(37), 32, 'Chunk list ab in data/ab/abc')).toThrow(/Chunk list ab in data\/ab\/abc is 37 bytes, not a whole number of 36-byte entries/);
    expect(() => decodeList(Buffer.alloc(30), 16, 'Chunk list ab')).toThrow(/is 30 bytes, not a whole number of 20-byte entries/);
  });

  it('cuts a list into runs by content that hold every entry once, in order', () => {
    const list = Array.from({ length: 20_000 }, (_, i) => entry(i));
    const blobs = listBlobs(keys, list);
    expect(blobs.flatMap((b) => decodeList(b.plain, 16, 'run'))).toEqual(list);
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
