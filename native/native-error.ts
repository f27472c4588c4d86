// The errors the addon throws: shaped like Node's errno errors (code, syscall, path) but with a positive errno.
export interface NativeError extends Error {
  /** Positive errno value, e.g. 25. */
  errno: number;
  /** Symbolic errno name, e.g. 'ENOTTY'. */
  code: string;
  /** The failed call, e.g. 'ioctl(BLKGETSIZE64)', 'open', 'pread'. */
  syscall: string;
  /** The file or device the call was made on. */
  path: string;
  /** The second file of two-file calls (FICLONE's destination). */
  dest?: string;
}

export function isNativeError(e: unknown): e is NativeError {
  if (!(e instanceof Error)) return false;
  const fields = e as Partial<Record<'errno' | 'code' | 'syscall' | 'path', unknown>>;
  return typeof fields.errno === 'number' && fields.errno > 0 && typeof fields.code === 'string'
    && typeof fields.syscall === 'string' && typeof fields.path === 'string';
}
