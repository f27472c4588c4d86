// Block device size, sector sizes, cache flush and discard, addressed by device path.
import { assertByteCount } from './byte-count.js';
import { withFd } from './fd.js';
import { native } from './load.js';

export interface BlockDeviceGeometry {
  sizeBytes: bigint;
  logicalSectorSize: number;
  physicalSectorSize: number;
}

/** BLKGETSIZE64, BLKSSZGET and BLKPBSZGET on `path`; ENOTTY when `path` is not a block device. */
export function blockDeviceGeometry(path: string): BlockDeviceGeometry {
  const addon = native();
  return withFd(path, addon.constants.O_RDONLY, (fd) => ({
    sizeBytes: addon.blkGetSize64(fd, path),
    logicalSectorSize: addon.blkSszGet(fd, path),
    physicalSectorSize: addon.blkPbszGet(fd, path),
  }));
}

/** BLKFLSBUF: writes back dirty buffers of the device and drops its page cache, so later reads see the medium. */
export function flushBlockDevice(path: string): void {
  const addon = native();
  withFd(path, addon.constants.O_RDONLY, (fd) => addon.blkFlsBuf(fd, path));
}

/** BLKDISCARD over [offsetBytes, offsetBytes + lengthBytes); both must be multiples of the logical sector size. */
export function discardRange(path: string, offsetBytes: bigint, lengthBytes: bigint): void {
  assertByteCount('offsetBytes', offsetBytes);
  assertByteCount('lengthBytes', lengthBytes);
  const addon = native();
  // The kernel only discards through a descriptor opened for writing.
  withFd(path, addon.constants.O_WRONLY, (fd) => addon.blkDiscard(fd, path, offsetBytes, lengthBytes));
}
