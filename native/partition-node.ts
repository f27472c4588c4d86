// BLKPG: create, delete or resize one partition node (/dev/sdaN, /dev/loopNpM) without rereading the disk's table.
// Measured on Linux 6.18: loop devices accept it with or without LO_FLAGS_PARTSCAN.
import { assertByteCount } from './byte-count.js';
import { withFd } from './fd.js';
import { native } from './load.js';

function assertPartno(partno: number): void {
  if (!Number.isSafeInteger(partno) || partno < 1 || partno > 2 ** 31 - 1) {
    throw new RangeError(`Expected partno to be a positive integer, got ${String(partno)}`);
  }
}

export function addPartitionNode(diskPath: string, partno: number, startBytes: bigint, lengthBytes: bigint): void {
  assertPartno(partno);
  assertByteCount('startBytes', startBytes);
  assertByteCount('lengthBytes', lengthBytes);
  const addon = native();
  withFd(diskPath, addon.constants.O_RDONLY, (fd) => addon.blkpgAdd(fd, diskPath, partno, startBytes, lengthBytes));
}

export function deletePartitionNode(diskPath: string, partno: number): void {
  assertPartno(partno);
  const addon = native();
  withFd(diskPath, addon.constants.O_RDONLY, (fd) => addon.blkpgDelete(fd, diskPath, partno));
}

/** The kernel keeps the start where it is: `startBytes` must equal the current start (EINVAL otherwise). */
export function resizePartitionNode(diskPath: string, partno: number, startBytes: bigint, lengthBytes: bigint): void {
  assertPartno(partno);
  assertByteCount('startBytes', startBytes);
  assertByteCount('lengthBytes', lengthBytes);
  const addon = native();
  withFd(diskPath, addon.constants.O_RDONLY, (fd) => addon.blkpgResize(fd, diskPath, partno, startBytes, lengthBytes));
}
