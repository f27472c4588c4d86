import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeChunk, encodeChunk, isAllZero } from './chunk-codec.js';
import type { ChunkIndexEntry } from './chunk-record.js';
import { DEFAULT_CHUNK_SIZE, RECORD_HEADER_SIZE } from './image-format.js';

const keys = { imageId: new Uint8Array(randomBytes(16)), chunkKey: new Uint8Array(randomBytes(32)) };

function entryOf(chunk: ReturnType<typeof encodeChunk>): ChunkIndexEntry {
  return { ...chunk, fileOffset: 0 };
}

/** Disk-like data: half text-like runs that compress, half random bytes that do not. */
function diskLike(length: number): Uint8Array {
  const data = new Uint8Array(length);
  const text = new TextEncoder().encode('inode table, directory entries and some log lines 2024-05-01 12:00:00 ok\n');
  for (let at = 0; at < length; at += 65536) {
    if ((at / 65536) % 2 === 0) for (let i = 0; i < 65536 && at + i < length; i++) data[at + i] = text[i % text.length]!;
    else data.set(randomBytes(Math.min(65536, length - at)), at);
  }
  return data;
}

describe('encodeChunk', () => {
  it('records an all-zero chunk with no payload and gives it back', () => {
    const chunk = encodeChunk(undefined, { index: 0, streamId: 1, offsetBytes: 0 }, new Uint8Array(4096), 3);
    expect(chunk.kind).toBe('zero');
    expect(chunk.record.length).toBe(RECORD_HEADER_SIZE);
    expect(decodeChunk(undefined, entryOf(chunk), chunk.record)).toEqual(new Uint8Array(4096));
    expect(isAllZero(Uint8Array.of(0, 0, 1))).toBe(false);
    expect(isAllZero(Uint8Array.of(1, 1, 1))).toBe(false);
  });

  it('stores random data raw and keeps the plain hash out of encrypted records', () => {
    const plain = new Uint8Array(randomBytes(8192));
    const clear = encodeChunk(undefined, { index: 1, streamId: 1, offsetBytes: 0 }, plain, 3);
    expect(clear.kind).toBe('raw');
    const sealed = encodeChunk(keys, { index: 1, streamId: 1, offsetBytes: 0 }, plain, 3);
    expect(sealed.plainSha256.every((b) => b === 0)).toBe(true);
    expect(Buffer.from(sealed.record).includes(Buffer.from(clear.plainSha256))).toBe(false);
    expect(Buffer.from(sealed.record).includes(Buffer.from(plain.subarray(0, 32)))).toBe(false);
    expect(Buffer.from(decodeChunk(keys, entryOf(sealed), sealed.record)).equals(plain)).toBe(true);
  });

  it('gives distinct ciphertexts for the same data at another index', () => {
    const plain = new Uint8Array(4096).fill(1);
    const a = encodeChunk(keys, { index: 1, streamId: 1, offsetBytes: 0 }, plain, 0);
    const b = encodeChunk(keys, { index: 2, streamId: 1, offsetBytes: 0 }, plain, 0);
    expect(Buffer.from(a.record.subarray(RECORD_HEADER_SIZE)).equals(b.record.subarray(RECORD_HEADER_SIZE))).toBe(false);
  });

  it('prints its throughput for 4 MiB chunks at levels 1 and 3, with and without encryption', () => {
    const data = diskLike(DEFAULT_CHUNK_SIZE);
    const configs = [1, 3].flatMap((level) => [undefined, keys].map((withKeys) => ({ level, withKeys })));
    // Best of three passes: the first calls pay for warm-up, and other processes share the two cores.
    const best = configs.map(() => 0);
    const stored = configs.map(() => 0);
    for (let pass = 0; pass < 3; pass++) {
      configs.forEach(({ level, withKeys }, c) => {
        const rounds = 8;
        const start = performance.now();
        for (let i = 0; i < rounds; i++) stored[c] = encodeChunk(withKeys, { index: i, streamId: 1, offsetBytes: 0 }, data, level).storedLength;
        best[c] = Math.max(best[c]!, (rounds * DEFAULT_CHUNK_SIZE) / 1048576 / ((performance.now() - start) / 1000));
      });
    }
    const rows = configs.map(({ level, withKeys }, c) =>
      `| ${level} | ${withKeys ? 'AES-256-GCM' : 'none'} | ${best[c]!.toFixed(0)} | ${(stored[c]! / DEFAULT_CHUNK_SIZE).toFixed(3)} |`);
    console.log(['encodeChunk, 4 MiB disk-like chunks (half text, half random), one thread, best of 3', '| level | encryption | MiB/s | stored/plain |', '| --- | --- | --- | --- |', ...rows].join('\n'));
  });
});
