// Reading a backup source (block device or image file): async positional reads for the data path, sync for the
// pure used-block readers.
import { open, type FileHandle } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { ShadowError } from '../../../sdk/index.js';
import type { ByteReader } from '../used-blocks/used-block-map.js';

export class SourceReader implements AsyncDisposable {
  private constructor(readonly path: string, private readonly handle: FileHandle) {}

  static async open(path: string): Promise<SourceReader> {
    try {
      return new SourceReader(path, await open(path, 'r'));
    } catch (error) {
      throw new ShadowError((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `Cannot open backup source '${path}': ${(error as Error).message}`);
    }
  }

  /** Fills `target` from `offsetBytes`; a short read means the source shrank under us. */
  async readInto(target: Uint8Array, offsetBytes: number): Promise<void> {
    let done = 0;
    while (done < target.length) {
      const { bytesRead } = await this.handle.read(target, done, target.length - done, offsetBytes + done);
      if (bytesRead === 0) throw new ShadowError('IO_ERROR', `Short read from '${this.path}' at byte ${offsetBytes + done}: the source is smaller than it was`);
      done += bytesRead;
    }
  }

  /** A synchronous reader over [baseBytes, baseBytes + sizeBytes), for filesystem structure parsers. */
  byteReader(baseBytes: number, sizeBytes: number): ByteReader {
    return (offset, length) => {
      if (offset < 0 || offset + length > sizeBytes) throw new ShadowError('IMAGE_CORRUPT', `A filesystem structure points at bytes ${offset}–${offset + length - 1}, past the end of its ${sizeBytes}-byte volume`);
      const buffer = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(this.handle.fd, buffer, done, length - done, baseBytes + offset + done);
        if (n === 0) throw new ShadowError('IO_ERROR', `Short read from '${this.path}'`);
        done += n;
      }
      return buffer;
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.handle.close();
  }
}
