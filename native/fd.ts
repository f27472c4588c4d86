// Path-based wrappers open, call and close through this, so every step fails with the same NativeError shape.
import { native } from './load.js';

/** Opens `path`, hands the fd to `use`, and always closes it; a close failure never hides the error of `use`. */
export function withFd<T>(path: string, flags: number, use: (fd: number) => T, mode?: number): T {
  const addon = native();
  const fd = addon.open(path, flags, mode);
  let result: T;
  try {
    result = use(fd);
  } catch (error) {
    try {
      addon.close(fd, path);
    } catch {
      // The first failure is the one worth reporting.
    }
    throw error;
  }
  addon.close(fd, path);
  return result;
}
