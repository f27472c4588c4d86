import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContentChunker, DEFAULT_CHUNKER, gearTable } from './content-chunker.js';

const gear = gearTable(Buffer.from('test seed'));
const hashOf = (c: Uint8Array) => createHash('sha256').update(c).digest('hex');

function chunksOf(data: Uint8Array, feed = 1_000_003): Uint8Array[] {
  const chunker = new ContentChunker(gear);
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += feed) out.push(...chunker.push(data.subarray(at, at + feed)));
  return [...out, ...chunker.finish()];
}

describe('content-defined chunker', () => {
  const data = randomBytes(48 * 1024 * 1024);

  it('cuts random data into chunks of about 512 KiB within the bounds, losing and reordering nothing', () => {
    const chunks = chunksOf(data);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(DEFAULT_CHUNKER.minBytes);
      expect(c.length).toBeLessThanOrEqual(DEFAULT_CHUNKER.maxBytes);
    }
    const average = data.length / chunks.length;
    expect(average).toBeGreaterThan(380 * 1024);
    expect(average).toBeLessThan(700 * 1024);
  });

  it('cuts the same places whatever sizes the data is fed in', () => {
    expect(chunksOf(data, 4096).map(hashOf)).toEqual(chunksOf(data, 7 * 1024 * 1024 + 5).map(hashOf));
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
    const theirs = [...other.push(data), ...other.finish()].map((c) => c.length);
    expect(theirs).not.toEqual(mine);
    const zeros = chunksOf(new Uint8Array(10 * 1024 * 1024));
    expect(zeros.slice(0, 2).map((c) => c.length)).toEqual([DEFAULT_CHUNKER.maxBytes, DEFAULT_CHUNKER.maxBytes]);
  });
});
