// Reflink copies (FICLONE, FICLONERANGE): the destination shares the source's extents until either is written.
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { assertByteCount } from './byte-count.js';
import { withFd } from './fd.js';
import { native } from './load.js';

/**
 * Makes `destPath` a reflink of all of `srcPath`; it is created with the source's permission bits or truncated.
 * EOPNOTSUPP/EXDEV when the filesystem cannot share extents or the files are on different filesystems;
 * a destination this call created is removed again on failure.
 */
export function cloneFile(srcPath: string, destPath: string): void {
  const addon = native();
  const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC } = addon.constants;
  const created = !existsSync(destPath);
  withFd(srcPath, O_RDONLY, (srcFd) => {
    const mode = statSync(srcPath).mode & 0o7777;
    try {
      withFd(destPath, O_WRONLY | O_CREAT | O_TRUNC, (destFd) => addon.fiClone(srcFd, srcPath, destFd, destPath), mode);
    } catch (error) {
      if (created) unlinkSync(destPath);
      throw error;
    }
  });
}

/**
 * Shares `length` bytes of `srcPath` at `srcOffset` into `destPath` at `destOffset` (created if missing).
 * Offsets and length must be multiples of the filesystem block size, except a length reaching the source's end;
 * length 0n means "to the end of the source".
 */
export function cloneRange(srcPath: string, srcOffset: bigint, length: bigint, destPath: string, destOffset: bigint): void {
  assertByteCount('srcOffset', srcOffset);
  assertByteCount('length', length);
  assertByteCount('destOffset', destOffset);
  const addon = native();
  const { O_RDONLY, O_WRONLY, O_CREAT } = addon.constants;
  withFd(srcPath, O_RDONLY, (srcFd) =>
    withFd(destPath, O_WRONLY | O_CREAT, (destFd) =>
      addon.fiCloneRange(srcFd, srcPath, srcOffset, length, destFd, destPath, destOffset), 0o644));
}

export interface CatchUp {
  /** Ranges re-cloned and their bytes. */
  ranges: number;
  bytes: number;
  /** The clone's extent map afterwards (when asked for), to pass to the next catch-up. */
  cloneMap?: Float64Array;
}

/**
 * Brings the reflink clone `clonePath` up to `sourcePath`'s present off the JavaScript thread: the ranges whose extents
 * differ between the source (synced first) and the clone's map (`cloneMap` from an earlier catch-up, or read now) are
 * re-cloned. Several run in parallel (libuv's thread pool). `remap` returns the clone's new map for the next call.
 */
export function reflinkCatchUp(sourcePath: string, clonePath: string, cloneMap?: Float64Array, remap = false): Promise<CatchUp> {
  return native().reflinkCatchUp(sourcePath, clonePath, cloneMap ?? null, remap);
}
