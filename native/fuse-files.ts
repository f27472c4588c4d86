// Serves flat, read-only files whose bytes come from JavaScript through a FUSE mount (native/src/fuse_files.cc), so a
// read-only loop device, and a filesystem mount on it, can sit on data that exists only inside an image.
import { constants as os } from 'node:os';
import { native } from './load.js';

export interface ServedFile {
  /** A plain name (no '/'), listed in the mount's root directory. */
  readonly name: string;
  readonly sizeBytes: number;
  /**
   * Bytes [offset, offset + length) of the file, never past its end. Must not wait on I/O to this same mount (the
   * answer to that I/O would come from this thread): read the image synchronously or through the thread pool.
   * A thrown error fails the read with EIO (or the error's errno) and is passed to `onError`.
   */
  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> | Uint8Array;
}

export interface FuseFileServerOptions {
  /** libfuse worker threads (default 4): READs in flight at once. */
  maxThreads?: number;
  /** Called for each failed read, e.g. to report a damaged chunk once. */
  onError?: (error: Error, file: ServedFile, offsetBytes: number) => void;
}

export interface FuseFileServer extends AsyncDisposable {
  readonly mountpoint: string;
  /** Unmounts (EBUSY while a loop device or an open file still uses it) and stops the FUSE threads. */
  close(options?: { lazy?: boolean }): Promise<void>;
}

/** Mounts a FUSE filesystem on the existing empty directory `mountpoint` holding `files`, read-only. */
export function serveFiles(mountpoint: string, files: readonly ServedFile[], options: FuseFileServerOptions = {}): FuseFileServer {
  const addon = native();
  let handle = 0;
  let closed = false;
  let closing = false;
  const answer = (id: number, reply: () => boolean) => {
    try {
      reply();
    } catch (error) {
      // A READ still being answered while the server closes was already failed with EIO by the native side.
      if (!closed && !closing) throw error;
    }
  };
  const onRead = (id: number, index: number, offset: number, length: number) => {
    const file = files[index]!;
    let pending: Promise<Uint8Array>;
    try {
      pending = Promise.resolve(file.read(offset, length));
    } catch (error) {
      pending = Promise.reject(error as Error);
    }
    pending.then(
      (bytes) => {
        if (bytes.length !== length) throw new RangeError(`read of ${length} bytes at ${offset} of '${file.name}' returned ${bytes.length}`);
        answer(id, () => addon.fuseFilesReply(handle, id, bytes));
      },
    ).catch((error: unknown) => {
      const err = error instanceof Error ? error : new Error(String(error));
      const errno = (err as NodeJS.ErrnoException).code ? os.errno[(err as NodeJS.ErrnoException).code as keyof typeof os.errno] : undefined;
      answer(id, () => addon.fuseFilesReplyError(handle, id, errno ?? os.errno.EIO));
      options.onError?.(err, file, offset);
    });
  };
  handle = addon.fuseFilesMount(mountpoint, files.map((f) => ({ name: f.name, size: f.sizeBytes })), onRead, options.maxThreads ?? 4);
  const close = async (closeOptions: { lazy?: boolean } = {}) => {
    if (closed) return;
    closing = true;
    try {
      await addon.fuseFilesUnmount(handle, closeOptions.lazy ?? false);
      closed = true;
    } finally {
      closing = false;
    }
  };
  return { mountpoint, close, [Symbol.asyncDispose]: () => close() };
}
