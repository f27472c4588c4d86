import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContentChunker, DEFAULT_CHUNKER, gearTable } from './content-chunker.js';

const gear = gearTable(Buffer.from('test seed'));
const hashOf = (c: Uint8Array) => createHash('sha256').update(c).digest('hex');
/** Chunks are views valid until the chunker's next call: kept ones are copied. */
const copies = (chunks: Uint8Array[]) => chunks.map((c) => c.slice());

function chunksOf(data: Uint8Array, feed = 1_000_003): Uint8Array[] {
  const chunker = new ContentChunker(gear);
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += feed) out.push(...copies(chunker.push(data.subarray(at, at + feed))));
  return [...out, ...copies(chunker.finish())];
}

describe('content-defined chunker', () => {
  const data = randomBytes(48 * 1024 * 1024);

  it('cuts random data into chunks of about 1 MiB within the bounds, losing and reordering nothing', () => {
    const chunks = chunksOf(data);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(DEFAULT_CHUNKER.minBytes);
      expect(c.length).toBeLessThanOrEqual(DEFAULT_CHUNKER.maxBytes);
    }
    const average = data.length / chunks.length;
    expect(average).toBeGreaterThan(760 * 1024);
    expect(average).toBeLessThan(1400 * 1024);
  });

  it('cuts the same places whatever sizes the data is fed in (also when one feed fills its buffer several times)', () => {
    const reference = chunksOf(data, 4096).map(hashOf);
    expect(chunksOf(data, 7 * 1024 * 1024 + 5).map(hashOf)).toEqual(reference);
    expect(chunksOf(data, data.length).map(hashOf)).toEqual(reference);
  });

  it('finds the same chunks after an insertion shifts the data (all but the ones around the edit)', () => {
    const shifted = Buffer.concat([data.subarray(0, 10_000_000), randomBytes(12_345), data.subarray(10_000_000)]);
    const before = new Set(chunksOf(data).map(hashOf));
    const after = chunksOf(shifted).map(hashOf);
    const fresh = after.filter((h) => !before.has(h));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.length).toBeLessThanOrEqual(4);
  });

  it('cuts differently under another key, and at the maximum on data with no cut point', () => {
    const other = new ContentChunker(gearTable(Buffer.from('another seed')));
    const mine = chunksOf(data).map((c) => c.length);
    const theirs = [...copies(other.push(data)), ...copies(other.finish())].map((c) => c.length);
    expect(theirs).not.toEqual(mine);
    const zeros = chunksOf(new Uint8Array(10 * 1024 * 1024));
    expect(zeros.slice(0, 2).map((c) => c.length)).toEqual([DEFAULT_CHUNKER.maxBytes, DEFAULT_CHUNKER.maxBytes]);
  });

  it('ends a chunk at every file boundary, so a file cuts the same wherever it lies and whatever precedes it', () => {
    const file = data.subarray(0, 3 * 1024 * 1024);
    const inStream = (before: Uint8Array) => {
      const chunker = new ContentChunker(gear);
      const out = [...copies(chunker.push(before)), ...copies(chunker.boundary()), ...copies(chunker.push(file)), ...copies(chunker.boundary()), ...copies(chunker.push(data.subarray(5_000_000, 5_100_000))), ...copies(chunker.finish())];
      return out.map(hashOf);
    };
    const a = inStream(randomBytes(10_000));
    const b = inStream(randomBytes(777_777));
    const alone = chunksOf(file).map(hashOf);
    // The file's own chunks, as if it were a stream by itself, appear in both; a 10 kB file before it is a chunk alone.
    for (const h of alone) expect(a).toContain(h);
    for (const h of alone) expect(b).toContain(h);
    expect(a).toHaveLength(alone.length + 2);
    // Without file cuts (repositories made before them) boundaries change nothing.
    const plain = new ContentChunker(gear, { ...DEFAULT_CHUNKER, cutAtFiles: undefined });
    expect([...plain.push(file.subarray(0, 10_000)), ...plain.boundary()]).toEqual([]);
    // A boundary with nothing pending makes no empty chunk.
    const chunker = new ContentChunker(gear);
    expect([...chunker.boundary(), ...chunker.push(file.subarray(0, 4096)), ...chunker.boundary(), ...chunker.boundary()].map((c) => c.length)).toEqual([4096]);
  });
});
