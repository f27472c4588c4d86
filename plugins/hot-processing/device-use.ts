// Who uses a block device: the folders it is mounted on (matched by device number in the mount table, so any name of
// the device counts), and whether anything holds it exclusively (a mount, a partition in use, another tool).
import { closeSync, constants, openSync, readFileSync, statSync } from 'node:fs';
import { loopStatus } from '../../native/index.js';
import { decodeMountField } from './engine-process.js';

function deviceNumber(device: string): string | undefined {
  try {
    const st = statSync(device);
    if (!st.isBlockDevice()) return undefined;
    const rdev = st.rdev;
    const major = ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff;
    const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
    return `${major}:${minor}`;
  } catch {
    return undefined;
  }
}

export function mountpointsOf(device: string): string[] {
  const number = deviceNumber(device);
  if (number === undefined) return [];
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === number)
    .map((fields) => decodeMountField(fields[4]!));
}

/** True when the kernel refuses an exclusive open: mounted, or held by a device mapper, RAID or another exclusive user. */
export function isHeldExclusively(device: string): boolean {
  try {
    closeSync(openSync(device, constants.O_RDONLY | constants.O_EXCL));
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EBUSY') return true;
    throw error;
  }
}

/** Whether `device` is still the loop device on `backingFile` (a loop number is reused by others once released). */
export function loopBacks(device: string, backingFile: string): boolean {
  try {
    return loopStatus(device).backingFile === backingFile;
  } catch {
    return false;
  }
}
