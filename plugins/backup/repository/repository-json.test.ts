import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson } from './repository.js';

describe('repository JSON objects', () => {
  const index = { pack: randomBytes(32).toString('hex'), blobs: Array.from({ length: 2000 }, (_, i) => [randomBytes(32).toString('hex'), i * 9000, 9000, 16384]) };

  it('are stored compressed (hex ids take about half the room) and read back equal', () => {
    const plain = Buffer.from(JSON.stringify(index));
    const stored = encodeJson(index);
    expect(stored[0]).toBe(1);
    expect(stored.length).toBeLessThan(plain.length * 0.6);
    expect(decodeJson(stored, 'index')).toEqual(index);
    // Equal values encode to equal bytes (deterministic sealing of indexes and pack headers relies on it).
    expect(encodeJson(index).equals(stored)).toBe(true);
  });

  it('read plain JSON written before compression, and keep tiny values plain', () => {
    expect(decodeJson(Buffer.from(JSON.stringify(index)), 'old index')).toEqual(index);
    expect(encodeJson({ a: 1 }).toString()).toBe('{"a":1}');
  });

  it('name the object when a compressed one is damaged', () => {
    const stored = encodeJson(index);
    const cut = stored.subarray(0, stored.length - 100);
    expect(() => decodeJson(cut, "Object 'index/abc'")).toThrow(expect.objectContaining({ code: 'IMAGE_CORRUPT', message: expect.stringMatching(/Object 'index\/abc' does not decompress/) }));
    expect(() => decodeJson(stored.subarray(0, 3), "Object 'index/abc'")).toThrow(/cut short/);
  });
});
