// The I/O edges of the image format: files, pipes and streams as ImageSink, files and buffers as ImageSource.
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { allocAligned, DirectFile } from '../../../native/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { corrupt } from './image-format.js';
import type { ImageSource } from './image-reader.js';
import type { ImageSink } from './image-writer.js';

export interface ClosableImageSink extends ImageSink, AsyncDisposable {
  close(): Promise<void>;
}

export interface ClosableImageSource extends ImageSource, AsyncDisposable {
  close(): Promise<void>;
}

/**
 * Creates (or truncates) a file, or opens a FIFO or /dev/stdout, and writes to it sequentially. A regular file is
 * written with O_DIRECT where its filesystem allows (measured: the page-cache copy of buffered writes cost more CPU
 * than compressing), through aligned staging buffers; the unaligned tail goes through the ordinary descriptor.
 */
export async function fileImageSink(path: string): Promise<ClosableImageSink> {
  const handle = await ioCall(() => open(path, 'w'), `open '${path}' for writing`);
  if ((await handle.stat()).isFile()) {
    let direct: DirectFile | undefined;
    try {
      direct = DirectFile.open(path, 'r+');
    } catch {
      // tmpfs and some FUSE filesystems refuse O_DIRECT: buffered writes then.
    }
    if (direct) return directSink(handle, direct, path);
  }
  return sinkOnHandle(handle, path);
}

const STAGE_BYTES = 8 * 1024 * 1024;

/** Sequential O_DIRECT writes from two aligned staging buffers: one is filled while the other is being written. */
function directSink(handle: FileHandle, direct: DirectFile, path: string): ClosableImageSink {
  const stages = [allocAligned(STAGE_BYTES, direct.alignment), allocAligned(STAGE_BYTES, direct.alignment)];
  let current = 0;
  let filled = 0;
  let offset = 0;
  let inFlight: Promise<unknown> | undefined;
  let closed = false;
  const flushStage = async () => {
    if (inFlight) await inFlight;
    const stage = stages[current]!;
    inFlight = ioCall(() => direct.write(stage, BigInt(offset)), `write to '${path}'`);
    inFlight.catch(() => undefined);
    offset += STAGE_BYTES;
    current ^= 1;
    filled = 0;
  };
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      if (inFlight) await inFlight;
      // The last, unaligned bytes through the ordinary descriptor; then everything is flushed as a buffered file is.
      let done = 0;
      while (done < filled) done += (await ioCall(() => handle.write(stages[current]!, done, filled - done, offset + done), `write to '${path}'`)).bytesWritten;
      await handle.sync();
    } finally {
      direct.close();
      await handle.close();
    }
  };
  return {
    async write(bytes) {
      let at = 0;
      while (at < bytes.length) {
        const take = Math.min(bytes.length - at, STAGE_BYTES - filled);
        stages[current]!.set(bytes.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === STAGE_BYTES) await flushStage();
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function sinkOnHandle(handle: FileHandle, path: string): ClosableImageSink {
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // A finished image must survive a power cut: flush it before saying so (a pipe or FIFO cannot be synced).
    await handle.sync().catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EINVAL' && error.code !== 'EROFS') throw error;
    });
    await handle.close();
  };
  return {
    async write(bytes) {
      // FileHandle.write without a position continues at the current offset, which a pipe also supports.
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await ioCall(() => handle.write(bytes, done, bytes.length - done), `write to '${path}'`);
        done += bytesWritten;
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Writes to a Node writable stream (process.stdout, a socket, a child's stdin), waiting for each write to be accepted. */
export function streamImageSink(stream: Writable): ImageSink & { end(): Promise<void> } {
  return {
    write(bytes) {
      return new Promise((resolve, reject) => {
        stream.write(bytes, (error) => (error ? reject(new ShadowError('IO_ERROR', `Cannot write the image to the stream: ${error.message}`, { cause: error })) : resolve()));
      });
    },
    end() {
      return new Promise((resolve) => stream.end(resolve));
    },
  };
}

/** Collects the image in memory; for tests and small images. */
export function memoryImageSink(): ImageSink & { bytes(): Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    async write(bytes) {
      parts.push(Uint8Array.from(bytes));
    },
    bytes: () => new Uint8Array(Buffer.concat(parts)),
  };
}

export async function fileImageSource(path: string): Promise<ClosableImageSource> {
  const handle = await ioCall(() => open(path, 'r'), `open '${path}' for reading`);
  const { size } = await handle.stat();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    size,
    async read(offset, length) {
      if (offset < 0 || offset + length > size) throw corrupt(`a read of ${length} bytes at byte ${offset} goes past the end of the ${size}-byte file`);
      const buffer = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await ioCall(() => handle.read(buffer, done, length - done, offset + done), `read '${path}'`);
        if (bytesRead === 0) throw corrupt(`'${path}' ended at byte ${offset + done}, expected ${size} bytes (it shrank while being read)`);
        done += bytesRead;
      }
      return buffer;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export function memoryImageSource(bytes: Uint8Array): ImageSource {
  return {
    size: bytes.length,
    async read(offset, length) {
      if (offset < 0 || offset + length > bytes.length) throw corrupt(`a read of ${length} bytes at byte ${offset} goes past the end of the ${bytes.length}-byte image`);
      return bytes.slice(offset, offset + length);
    },
  };
}

async function ioCall<T>(call: () => Promise<T>, operation: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const shadowCode = code === 'EACCES' || code === 'EPERM' ? 'PERMISSION_DENIED' : code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new ShadowError(shadowCode, `Cannot ${operation}: ${(error as Error).message}`, { cause: error, details: { errno: code } });
  }
}
