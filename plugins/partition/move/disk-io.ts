// Bulk reads and writes of a whole disk for moves: O_DIRECT on block devices (no page cache between the steps and
// the medium), buffered with fdatasync on image files; `flush` makes everything written so far durable.
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, openSync, constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { DirectFile } from '../../../native/index.js';
import { ShadowError } from '../../../sdk/index.js';

/**
 * Transfers larger than this are split, and up to QUEUE_DEPTH pieces are in flight at once. Chosen by measurement on
 * a direct-I/O loop device here (1, 4, 8, 16 MiB pieces at depths 1, 2, 4): 4 MiB at depth 4 read 2.8 GB/s and wrote
 * 2.6 GB/s, against 1.0 and 0.35 GB/s for 1 MiB one at a time (dd's way).
 */
export const IO_BYTES = 4 * 1024 * 1024;
const QUEUE_DEPTH = 4;

export interface DiskIo extends AsyncDisposable {
  readonly path: string;
  /** Offsets and lengths must be multiples of this (the logical sector size on block devices; 1 on files). */
  readonly alignment: number;
  /** `inOrder(n)` is called whenever the first n bytes are all in (for hashing while the rest arrives). */
  read(buf: Buffer, offsetBytes: number, inOrder?: (bytes: number) => void): Promise<void>;
  write(buf: Buffer, offsetBytes: number, inOrder?: (bytes: number) => void): Promise<void>;
  flush(): Promise<void>;
}

export async function openDiskIo(path: string, isBlockDevice: boolean): Promise<DiskIo> {
  try {
    return isBlockDevice ? openDirect(path) : await openBuffered(path);
  } catch (error) {
    throw new ShadowError('IO_ERROR', `Cannot open '${path}' for the move: ${(error as Error).message}`, { cause: error });
  }
}

function openDirect(path: string): DiskIo {
  const file = DirectFile.open(path, 'r+');
  // fsync on any descriptor of a block device writes back its cache and sends the device a flush.
  const syncFd = openSync(path, constants.O_RDONLY);
  const io = (op: 'read' | 'write') => (buf: Buffer, offset: number, inOrder?: (bytes: number) => void) =>
    inPieces(buf, async (piece, at) => {
      const n = await (op === 'read' ? file.read(piece, BigInt(offset + at)) : file.write(piece, BigInt(offset + at)));
      if (n !== piece.length) throw new ShadowError('IO_ERROR', `Short ${op} of ${piece.length} bytes at byte ${offset + at} of '${path}' (${n} transferred)`);
    }, path, op, offset, inOrder);
  return {
    path,
    alignment: file.alignment,
    read: io('read'),
    write: io('write'),
    async flush() {
      try {
        fsyncSync(syncFd);
      } catch (error) {
        throw new ShadowError('IO_ERROR', `Cannot flush '${path}': ${(error as Error).message}`, { cause: error });
      }
    },
    async [Symbol.asyncDispose]() {
      file.close();
      closeSync(syncFd);
    },
  };
}

async function openBuffered(path: string): Promise<DiskIo> {
  const handle: FileHandle = await open(path, 'r+');
  if (!fstatSync(handle.fd).isFile()) throw new Error('neither a block device nor a regular file');
  const io = (op: 'read' | 'write') => (buf: Buffer, offset: number, inOrder?: (bytes: number) => void) =>
    inPieces(buf, async (piece, at) => {
      let done = 0;
      while (done < piece.length) {
        const { bytesRead, bytesWritten } = op === 'read'
          ? { bytesRead: (await handle.read(piece, done, piece.length - done, offset + at + done)).bytesRead, bytesWritten: 0 }
          : { bytesRead: 0, bytesWritten: (await handle.write(piece, done, piece.length - done, offset + at + done)).bytesWritten };
        const n = op === 'read' ? bytesRead : bytesWritten;
        if (n === 0) throw new ShadowError('IO_ERROR', `Short ${op} at byte ${offset + at + done} of '${path}'`);
        done += n;
      }
    }, path, op, offset, inOrder);
  return {
    path,
    alignment: 1,
    read: io('read'),
    write: io('write'),
    async flush() {
      fdatasyncSync(handle.fd);
    },
    async [Symbol.asyncDispose]() {
      await handle.close();
    },
  };
}

/**
 * Runs `each` over IO_BYTES pieces of `buf`, QUEUE_DEPTH at a time; errors become IO_ERRORs naming the range.
 * `inOrder` hears how many leading bytes are complete each time that grows.
 */
async function inPieces(buf: Buffer, each: (piece: Buffer, at: number) => Promise<void>, path: string, op: string, offset: number, inOrder?: (bytes: number) => void): Promise<void> {
  let next = 0;
  const finished = new Set<number>();
  let contiguous = 0;
  const worker = async () => {
    while (next < buf.length) {
      const at = next;
      next += IO_BYTES;
      await each(buf.subarray(at, Math.min(buf.length, at + IO_BYTES)), at);
      finished.add(at);
      if (at !== contiguous) continue;
      while (finished.has(contiguous)) {
        finished.delete(contiguous);
        contiguous = Math.min(buf.length, contiguous + IO_BYTES);
      }
      inOrder?.(contiguous);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(QUEUE_DEPTH, Math.ceil(buf.length / IO_BYTES)) }, worker));
  } catch (error) {
    if (error instanceof ShadowError) throw error;
    throw new ShadowError('IO_ERROR', `Cannot ${op} ${buf.length} bytes at byte ${offset} of '${path}': ${(error as Error).message}`, { cause: error });
  }
}
