import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/index.js';
import { fileImageSink, fileImageSource, streamImageSink } from './image-io.js';
import { ImageReader } from './image-reader.js';
import { ImageWriter, type ImageSink } from './image-writer.js';
import { encryptedOptions, expectCode, PASSPHRASE, sampleManifest, samplePieces } from './image-test-data.js';

function teeSink(sinks: ImageSink[]): ImageSink {
  return { write: async (bytes) => void (await Promise.all(sinks.map((sink) => sink.write(bytes)))) };
}

describe('image sinks and sources', () => {
  it('writes the same bytes to a file, to a child cat through a pipe, to a FIFO and to a PassThrough', async () => {
    await using dir = await tempDir();
    const filePath = join(dir.path, 'direct.img');
    const catPath = join(dir.path, 'cat.img');
    const fifoPath = join(dir.path, 'fifo');
    const fifoOut = join(dir.path, 'fifo.img');

    const file = await fileImageSink(filePath);
    const catOut = await open(catPath, 'w');
    const cat = spawn('cat', [], { stdio: ['pipe', catOut.fd, 'inherit'] });
    const catExited = once(cat, 'exit');
    const mkfifo = spawn('mkfifo', [fifoPath]);
    expect((await once(mkfifo, 'exit'))[0]).toBe(0);
    const fifoReader = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', fifoPath, fifoOut]);
    const fifoExited = once(fifoReader, 'exit');
    await using _children = {
      // Only on failure are they still running; end exactly these two.
      [Symbol.asyncDispose]: async () => {
        for (const child of [cat, fifoReader]) if (child.exitCode === null && child.signalCode === null) child.kill();
        await catOut.close().catch(() => {});
      },
    };
    const fifo = await fileImageSink(fifoPath);
    const passThrough = new PassThrough();
    const collected: Buffer[] = [];
    passThrough.on('data', (b: Buffer) => collected.push(b));
    if (!cat.stdin) throw new Error('cat was started without a stdin pipe');
    const catSink = streamImageSink(cat.stdin);
    const passSink = streamImageSink(passThrough);

    const writer = await ImageWriter.create(teeSink([file, catSink, fifo, passSink]), sampleManifest, { ...encryptedOptions(), chunkSize: 1024 * 1024 });
    const big = new Uint8Array(2.5 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
    for (let offset = 0; offset < big.length; offset += writer.chunkSizeBytes) {
      await writer.append(1, offset, big.subarray(offset, offset + writer.chunkSizeBytes));
    }
    for (const piece of samplePieces()) await writer.append((piece.streamId + 10) >>> 0, piece.offsetBytes, piece.data);
    await writer.finish();
    await Promise.all([file.close(), fifo.close(), catSink.end(), passSink.end()]);
    const [[catExit], [fifoExit]] = await Promise.all([catExited, fifoExited]);
    expect([catExit, fifoExit]).toEqual([0, 0]);

    const direct = await readFile(filePath);
    expect((await readFile(catPath)).equals(direct)).toBe(true);
    expect((await readFile(fifoOut)).equals(direct)).toBe(true);
    expect(Buffer.concat(collected).equals(direct)).toBe(true);

    await using source = await fileImageSource(catPath);
    const reader = await ImageReader.open(source, { passphrase: PASSPHRASE });
    await reader.verify();
    expect(Buffer.from(await reader.readChunk(2)).equals(big.subarray(2 * 1024 * 1024))).toBe(true);
  });

  it('writes a file through O_DIRECT staging: the bytes (aligned runs and the unaligned tail) read back exactly', async () => {
    await using dir = await tempDir();
    const path = join(dir.path, 'direct.img');
    const sink = await fileImageSink(path);
    const parts = [randomBytes(5), randomBytes(9 * 1024 * 1024 + 3), randomBytes(4096), randomBytes(8 * 1024 * 1024), randomBytes(777)];
    for (const part of parts) await sink.write(part);
    await sink.close();
    expect(Buffer.compare(await readFile(path), Buffer.concat(parts))).toBe(0);
  });

  it('names a missing file and a file that is not an image', async () => {
    await using dir = await tempDir();
    await expectCode(fileImageSource(join(dir.path, 'absent.img')), 'NOT_FOUND');
    const path = join(dir.path, 'text.img');
    const sink = await fileImageSink(path);
    await sink.write(new TextEncoder().encode('not an image at all, just text '.repeat(20)));
    // A file sink stages writes (O_DIRECT): the bytes are in the file once it is closed.
    await sink.close();
    await using source = await fileImageSource(path);
    expect(await expectCode(ImageReader.open(source), 'IMAGE_CORRUPT')).toMatch(/expected the magic 'SHDWIMG1'/);
  });
});

describe('the format document', () => {
  it('is enough to write a reader: an independent Python reader from docs/image-format.md agrees with ours', async () => {
    await using dir = await tempDir();
    const path = join(dir.path, 'judge.img');
    const sink = await fileImageSink(path);
    const writer = await ImageWriter.create(sink, sampleManifest, { compressionLevel: 0, chunkSize: 64 * 1024 });
    for (const piece of samplePieces()) await writer.append(piece.streamId, piece.offsetBytes, piece.data);
    await writer.finish();
    await sink.close();
    const judge = spawn('python3', [join(import.meta.dirname, 'read-image-judge.py'), path]);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    judge.stdout.on('data', (b: Buffer) => out.push(b));
    judge.stderr.on('data', (b: Buffer) => err.push(b));
    const [code] = await once(judge, 'exit');
    expect(Buffer.concat(err).toString(), 'python3 judge').toBe('');
    expect(code).toBe(0);
    const seen = JSON.parse(Buffer.concat(out).toString()) as { manifest: unknown; chunks: { stream: number; offset: number; sha256: string }[] };
    await using source = await fileImageSource(path);
    const reader = await ImageReader.open(source);
    expect(seen.manifest).toEqual(reader.manifest);
    expect(seen.chunks).toEqual(reader.chunks.map((c) => ({ stream: c.streamId, offset: c.offsetBytes, sha256: Buffer.from(c.plainSha256).toString('hex') })));
  });
});
