// Read-only loop devices on snapshot files, released only while they still point at the file they were made for.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { attachLoop, detachLoop, loopStatus } from '../../../native/index.js';
import { ShadowError } from '../../../sdk/index.js';

export interface LoopGeometry {
  offsetBytes: string;
  sizeLimitBytes: string;
  blockSize: number;
}

/** Offset, size limit and logical sector size of a loop device, to expose its snapshot the same way. */
export function loopGeometry(device: string): LoopGeometry & { backingFile: string } {
  const status = loopStatus(device);
  const blockSize = Number(readFileSync(`/sys/block/${basename(device)}/queue/logical_block_size`, 'utf8'));
  return { backingFile: status.backingFile, offsetBytes: String(status.offsetBytes), sizeLimitBytes: String(status.sizeLimitBytes), blockSize };
}

export function attachReadOnly(file: string, geometry: LoopGeometry | undefined, directIo = false): string {
  return attachLoop(file, {
    readOnly: true,
    directIo,
    ...(geometry ? { offsetBytes: BigInt(geometry.offsetBytes), sizeLimitBytes: BigInt(geometry.sizeLimitBytes), blockSize: geometry.blockSize } : {}),
  });
}

/** Whether `device` is a loop device bound to `file` now (loop numbers are reused at once by others). */
export function loopBacks(device: string, file: string): boolean {
  try {
    return loopStatus(device).backingFile === file;
  } catch {
    return false;
  }
}

/** Detaches our loop device on `file`; TARGET_BUSY while it is mounted (the kernel would only mark it autoclear). */
export function releaseLoop(device: string | undefined, file: string): void {
  if (device === undefined || !loopBacks(device, file)) return;
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' - ')[1]?.split(' ')[1] === device);
  if (mounted) throw new ShadowError('TARGET_BUSY', `Snapshot device ${device} is mounted; unmount it first ('shadow unmount')`);
  detachLoop(device);
}
