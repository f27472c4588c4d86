// O_DIRECT reads and writes that bypass the page cache, on the libuv thread pool, with buffers aligned for the device.
import { fstatSync } from 'node:fs';
import { native } from './load.js';

/**
 * A zero-copy Buffer over `posix_memalign` memory (freed when the Buffer is garbage collected).
 * Contents are uninitialised. Slices stay aligned only when they start at a multiple of `alignment`.
 * Electron's V8 memory cage forbids such external buffers; this is for Node.
 */
export function allocAligned(sizeBytes: number, alignment = 4096): Buffer {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new RangeError(`Expected sizeBytes to be a non-negative integer, got ${String(sizeBytes)}`);
  if (!Number.isSafeInteger(alignment) || alignment < 8 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`Expected alignment to be a power of two of at least 8, got ${String(alignment)}`);
  }
  return native().allocAligned(sizeBytes, alignment);
}

/**
 * A file or block device opened with O_DIRECT by the addon (not by node:fs, so open errors are NativeErrors too).
 * Buffer addresses, lengths and offsets must be multiples of `alignment`: the logical sector size for block
 * devices, the filesystem block size for regular files. Misaligned requests are refused before any I/O (EINVAL).
 */
export class DirectFile implements Disposable {
  readonly path: string;
  readonly alignment: number;
  readonly writable: boolean;
  #fd: number;
  #pending = 0;
  #closed = false;

  private constructor(path: string, fd: number, alignment: number, writable: boolean) {
    this.path = path;
    this.#fd = fd;
    this.alignment = alignment;
    this.writable = writable;
  }

  static open(path: string, mode: 'r' | 'r+'): DirectFile {
    const addon = native();
    const c = addon.constants;
    const fd = addon.open(path, c.O_DIRECT | (mode === 'r+' ? c.O_RDWR : c.O_RDONLY));
    try {
      const stat = fstatSync(fd);
      const alignment = stat.isBlockDevice() ? addon.blkSszGet(fd, path) : stat.blksize;
      return new DirectFile(path, fd, alignment, mode === 'r+');
    } catch (error) {
      addon.close(fd, path);
      throw error;
    }
  }

  /** Fills `buf` from `offsetBytes`; resolves with the bytes read, fewer than buf.length only at the end of the file. */
  read(buf: Buffer, offsetBytes: bigint): Promise<number> {
    return this.#transfer('pread', buf, offsetBytes);
  }

  /** Writes all of `buf` at `offsetBytes`; resolves with buf.length. */
  write(buf: Buffer, offsetBytes: bigint): Promise<number> {
    return this.#transfer('pwrite', buf, offsetBytes);
  }

  /** Closes the descriptor, after any transfers still in flight; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending === 0) native().close(this.#fd, this.path);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #transfer(op: 'pread' | 'pwrite', buf: Buffer, offsetBytes: bigint): Promise<number> {
    if (this.#closed) throw new Error(`Cannot ${op === 'pread' ? 'read' : 'write'} '${this.path}': the DirectFile is closed`);
    if (typeof offsetBytes !== 'bigint' || offsetBytes < 0n) throw new RangeError(`Expected offsetBytes to be a non-negative bigint, got ${String(offsetBytes)}`);
    const addon = native();
    this.#pending++;
    try {
      let done = 0;
      while (done < buf.length) {
        const chunk = buf.subarray(done);
        const n = await addon[op](this.#fd, this.path, chunk, offsetBytes + BigInt(done), this.alignment);
        done += n;
        // End of file (or a final partial block of a regular file): nothing more to transfer at an aligned offset.
        if (n === 0 || n % this.alignment !== 0) break;
      }
      return done;
    } finally {
      this.#pending--;
      if (this.#closed && this.#pending === 0) addon.close(this.#fd, this.path);
    }
  }
}
