// Loop devices through the kernel interface (LOOP_CTL_GET_FREE + LOOP_CONFIGURE), without losetup.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { assertByteCount } from './byte-count.js';
import { withFd } from './fd.js';
import { native } from './load.js';
import { isNativeError } from './native-error.js';
import { deletePartitionNode } from './partition-node.js';

export interface LoopAttachOptions {
  /** Where the device starts in the backing file (lo_offset). */
  offsetBytes?: bigint;
  /** Device size; 0n or absent means up to the end of the backing file (lo_sizelimit). */
  sizeLimitBytes?: bigint;
  /** Logical sector size of the device: 512 (default), 1024, 2048 or 4096. */
  blockSize?: number;
  readOnly?: boolean;
  /** The kernel reads and writes the backing file with O_DIRECT (no double caching). */
  directIo?: boolean;
  /**
   * Detach automatically once nothing holds the device open. attachLoop keeps a descriptor open for such devices,
   * so they stay until detachLoop or until this process exits or dies (then at the unmount, if they are mounted).
   */
  autoClear?: boolean;
  /** Let the kernel scan the partition table (LO_FLAGS_PARTSCAN); needs the kernel's parser for that table type. */
  partScan?: boolean;
}

export interface LoopStatus {
  device: string;
  backingFile: string;
  offsetBytes: bigint;
  sizeLimitBytes: bigint;
  readOnly: boolean;
  directIo: boolean;
  autoClear: boolean;
  partScan: boolean;
}

const LOOP_CONTROL = '/dev/loop-control';
const CONFIGURE_ATTEMPTS = 8;
/** Descriptors of autoClear devices, closed by detachLoop (or by the process exiting). */
const heldAutoClearFds = new Map<string, number>();

/** Binds a free loop device to `backingFile` and returns its path ('/dev/loopN'). */
export function attachLoop(backingFile: string, options: LoopAttachOptions = {}): string {
  const offsetBytes = options.offsetBytes ?? 0n;
  const sizeLimitBytes = options.sizeLimitBytes ?? 0n;
  assertByteCount('offsetBytes', offsetBytes);
  assertByteCount('sizeLimitBytes', sizeLimitBytes);
  const blockSize = options.blockSize ?? 0;
  if (blockSize !== 0 && (!Number.isInteger(blockSize) || blockSize < 512 || (blockSize & (blockSize - 1)) !== 0)) {
    throw new RangeError(`Expected blockSize to be a power of two of at least 512, got ${String(blockSize)}`);
  }
  const addon = native();
  const c = addon.constants;
  const flags = (options.readOnly ? c.LO_FLAGS_READ_ONLY : 0) | (options.directIo ? c.LO_FLAGS_DIRECT_IO : 0)
    | (options.autoClear ? c.LO_FLAGS_AUTOCLEAR : 0) | (options.partScan ? c.LO_FLAGS_PARTSCAN : 0);
  const fileName = resolve(backingFile);
  return withFd(backingFile, options.readOnly ? c.O_RDONLY : c.O_RDWR, (backingFd) =>
    withFd(LOOP_CONTROL, c.O_RDWR, (controlFd) => {
      for (let attempt = 1; ; attempt++) {
        const device = `/dev/loop${addon.loopCtlGetFree(controlFd, LOOP_CONTROL)}`;
        try {
          const loopFd = addon.open(device, c.O_RDWR);
          try {
            addon.loopConfigure(loopFd, device, backingFd, blockSize, offsetBytes, sizeLimitBytes, flags, fileName);
          } catch (error) {
            addon.close(loopFd, device);
            throw error;
          }
          if (options.autoClear) heldAutoClearFds.set(device, loopFd);
          else addon.close(loopFd, device);
          return device;
        } catch (error) {
          // EBUSY: another process bound the device between GET_FREE and CONFIGURE; ENOENT: its node is not there yet.
          const raced = isNativeError(error) && (error.code === 'EBUSY' || (error.code === 'ENOENT' && error.syscall === 'open'));
          if (!raced || attempt >= CONFIGURE_ATTEMPTS) throw error;
          sleepMs(5 * attempt);
        }
      }
    }));
}

/** LOOP_GET_STATUS64 of `device`; ENXIO when nothing is bound to it. */
export function loopStatus(device: string): LoopStatus {
  const addon = native();
  const c = addon.constants;
  const raw = withFd(device, c.O_RDONLY, (fd) => addon.loopGetStatus64(fd, device));
  return {
    device: `/dev/loop${raw.number}`,
    // lo_file_name is cut at 63 bytes; sysfs has the whole path of the file the kernel actually holds.
    backingFile: sysfsBackingFile(device) ?? raw.fileName,
    offsetBytes: raw.offsetBytes,
    sizeLimitBytes: raw.sizeLimitBytes,
    readOnly: (raw.flags & c.LO_FLAGS_READ_ONLY) !== 0,
    directIo: (raw.flags & c.LO_FLAGS_DIRECT_IO) !== 0,
    autoClear: (raw.flags & c.LO_FLAGS_AUTOCLEAR) !== 0,
    partScan: (raw.flags & c.LO_FLAGS_PARTSCAN) !== 0,
  };
}

/**
 * LOOP_CLR_FD. While anything else holds the device open (a mount, another process) the kernel only marks it
 * autoClear and detaches at the last close; check loopStatus or /sys/block/loopN/loop when that matters.
 */
export function detachLoop(device: string): void {
  const addon = native();
  // Partition nodes added with BLKPG outlive LOOP_CLR_FD on loop devices without partition scanning, and the next
  // user of the number would find them (mkfs then refuses the device): take them down first.
  for (const partno of partitionNodesOf(device)) deletePartitionNode(device, partno);
  const held = heldAutoClearFds.get(device);
  if (held === undefined) {
    withFd(device, addon.constants.O_RDONLY, (fd) => addon.loopClrFd(fd, device));
    return;
  }
  heldAutoClearFds.delete(device);
  try {
    addon.loopClrFd(held, device);
  } finally {
    addon.close(held, device);
  }
}

/** Partition numbers the kernel has nodes for under a disk, from /sys/block/<disk>/<disk>pN/partition. */
export function partitionNodesOf(device: string): number[] {
  const name = basename(device);
  const numbers: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync(`/sys/block/${name}`);
  } catch {
    return numbers;
  }
  for (const entry of entries) {
    if (!entry.startsWith(name)) continue;
    try {
      numbers.push(Number(readFileSync(`/sys/block/${name}/${entry}/partition`, 'utf8')));
    } catch {
      // not a partition
    }
  }
  return numbers.sort((a, b) => a - b);
}

function sysfsBackingFile(device: string): string | undefined {
  try {
    return readFileSync(`/sys/block/${basename(device)}/loop/backing_file`, 'utf8').trimEnd();
  } catch {
    return undefined;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
