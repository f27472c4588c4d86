import { describe, expect, it } from 'vitest';
import { encodeChunk } from './chunk-codec.js';
import { FOOTER_SIZE, HEADER_SIZE } from './image-format.js';
import { memoryImageSink, memoryImageSource } from './image-io.js';
import { ImageReader } from './image-reader.js';
import { ImageWriter } from './image-writer.js';
import { encryptedOptions, expectCode, PASSPHRASE, sampleManifest, samplePieces, TEST_CHUNK, TEST_KDF, writeImage } from './image-test-data.js';

describe.each([
  { name: 'unencrypted', options: {}, read: {} },
  { name: 'encrypted', options: encryptedOptions(), read: { passphrase: PASSPHRASE } },
])('an $name image', ({ options, read }) => {
  it('gives back the manifest and every stream byte for byte, reading chunks in random order', async () => {
    const pieces = samplePieces();
    const bytes = await writeImage(pieces, options);
    const reader = await ImageReader.open(memoryImageSource(bytes), read);
    expect(reader.manifest).toEqual(sampleManifest);
    expect(reader.header.chunkSizeBytes).toBe(TEST_CHUNK);
    expect(reader.header.encrypted).toBe('passphrase' in options);
    expect(reader.chunks).toHaveLength(pieces.length);
    const order = pieces.map((_, i) => i).reverse();
    [order[0], order[3]] = [order[3]!, order[0]!];
    for (const i of order) {
      const entry = reader.chunks[i]!;
      expect({ streamId: entry.streamId, offsetBytes: entry.offsetBytes }).toEqual({ streamId: pieces[i]!.streamId, offsetBytes: pieces[i]!.offsetBytes });
      expect(Buffer.from(await reader.readChunk(i)).equals(pieces[i]!.data)).toBe(true);
    }
    expect(reader.chunks.map((c) => c.kind)).toEqual(['raw', 'raw', 'raw', 'zstd', 'zstd', 'zero', 'zero', 'raw']);
    expect(reader.totalPlainBytes).toBe(pieces.reduce((sum, p) => sum + p.data.length, 0));
  });

  it('passes verify and reports progress up to the trailer', async () => {
    const bytes = await writeImage(samplePieces(), options);
    const reader = await ImageReader.open(memoryImageSource(bytes), read);
    const seen: number[] = [];
    await reader.verify((p) => seen.push(p.chunksDone));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('holds an image with no chunks', async () => {
    const bytes = await writeImage([], options, { empty: true });
    const reader = await ImageReader.open(memoryImageSource(bytes), read);
    expect(reader.manifest).toEqual({ empty: true });
    expect(reader.chunks).toHaveLength(0);
    await reader.verify();
  });
});

describe('the image writer', () => {
  it('takes chunks encoded elsewhere with keysForWorkers, in index order only', async () => {
    const sink = memoryImageSink();
    const writer = await ImageWriter.create(sink, { a: 1 }, { chunkSize: TEST_CHUNK, passphrase: 'p', kdf: TEST_KDF });
    const keys = structuredClone(writer.keysForWorkers());
    const data = new Uint8Array(TEST_CHUNK).fill(9);
    const first = encodeChunk(keys, { index: 0, streamId: 1, offsetBytes: 0 }, data, 1);
    const second = encodeChunk(keys, { index: 1, streamId: 1, offsetBytes: TEST_CHUNK }, data, 1);
    await expectCode(writer.appendEncoded(second), 'INVALID_ARGUMENT');
    await writer.appendEncoded(first);
    await expectCode(writer.appendEncoded(first), 'INVALID_ARGUMENT');
    await writer.appendEncoded(second);
    const behind = encodeChunk(keys, { index: 2, streamId: 1, offsetBytes: 100 }, data, 1);
    expect(await expectCode(writer.appendEncoded(behind), 'INVALID_ARGUMENT')).toMatch(/ascending order/);
    const plainForEncrypted = encodeChunk(undefined, { index: 2, streamId: 2, offsetBytes: 0 }, data, 1);
    expect(await expectCode(writer.appendEncoded(plainForEncrypted), 'INVALID_ARGUMENT')).toMatch(/keysForWorkers/);
    const result = await writer.finish();
    expect(result).toMatchObject({ chunkCount: 2, imageId: writer.imageId, bytesWritten: sink.bytes().length });
    const reader = await ImageReader.open(memoryImageSource(sink.bytes()), { passphrase: 'p' });
    expect(Buffer.from(await reader.readChunk(1)).equals(data)).toBe(true);
  });

  it('refuses bad options and chunks larger than the chunk size', async () => {
    await expectCode(ImageWriter.create(memoryImageSink(), {}, { chunkSize: 100 }), 'INVALID_ARGUMENT');
    await expectCode(ImageWriter.create(memoryImageSink(), {}, { compressionLevel: 30 }), 'INVALID_ARGUMENT');
    await expectCode(ImageWriter.create(memoryImageSink(), {}, { passphrase: 'x', kdf: { N: 1000, r: 8, p: 1 } }), 'INVALID_ARGUMENT');
    await expectCode(ImageWriter.create(memoryImageSink(), undefined), 'INVALID_ARGUMENT');
    const writer = await ImageWriter.create(memoryImageSink(), {}, { chunkSize: TEST_CHUNK });
    await expectCode(writer.append(1, 0, new Uint8Array(TEST_CHUNK + 1)), 'INVALID_ARGUMENT');
  });

  it('writes a stream of random data raw and compressible data smaller', async () => {
    const bytes = await writeImage(samplePieces(), { compressionLevel: 0 });
    const reader = await ImageReader.open(memoryImageSource(bytes));
    expect(reader.chunks.map((c) => c.kind)).toEqual(['raw', 'raw', 'raw', 'raw', 'raw', 'zero', 'zero', 'raw']);
    expect(reader.header.compressed).toBe(false);
    const compressed = await writeImage(samplePieces(), { compressionLevel: 3 });
    expect(compressed.length).toBeLessThan(bytes.length - TEST_CHUNK);
    expect(bytes.length).toBeGreaterThan(HEADER_SIZE + FOOTER_SIZE);
  });
});
