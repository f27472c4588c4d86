// Telling devices and files apart by what they are, not by name: /dev aliases, a disk and its partitions, a loop
// device and its backing file. `disk copy` refuses to copy something onto itself; the restore journal notes what a
// target was, since loop device numbers are reused at once.
import { readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

export interface DeviceIdentity {
  kind: 'block-device' | 'file';
  sizeBytes: number;
  /** For a loop device (or a partition of one): the file behind it. */
  backingFile?: string;
}

/** The path as the kernel names it; the path itself when it does not exist. */
export function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The /sys/dev/block folder of a block device, resolved (a partition's folder lies inside its disk's). */
function sysfsDir(stats: Stats): string | undefined {
  const major = Number((BigInt(stats.rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(stats.rdev) & 0xffn) | ((BigInt(stats.rdev) >> 12n) & 0xfff00n));
  try {
    return realpathSync(`/sys/dev/block/${major}:${minor}`);
  } catch {
    return undefined;
  }
}

/** Where a loop device (or a partition on one) lies in its backing file, in bytes. */
interface FileExtent {
  path: string;
  stats: Stats;
  start: number;
  end: number;
}

function readSys(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function loopExtent(sysDir: string): FileExtent | undefined {
  const isPartition = readSys(`${sysDir}/partition`) !== undefined;
  const loopDir = isPartition ? dirname(sysDir) : sysDir;
  const backing = readSys(`${loopDir}/loop/backing_file`)?.replace(/ \(deleted\)$/, '');
  const stats = backing ? statSync(backing, { throwIfNoEntry: false }) : undefined;
  if (!backing || !stats) return undefined;
  // sysfs counts `start` and `size` in 512-byte units whatever the sector size.
  const start = Number(readSys(`${loopDir}/loop/offset`) ?? 0) + (isPartition ? Number(readSys(`${sysDir}/start`) ?? 0) * 512 : 0);
  return { path: backing, stats, start, end: start + Number(readSys(`${sysDir}/size`) ?? 0) * 512 };
}

/** The bytes of a file that `path` shows: the file itself, or a loop device's part of its backing file. */
function fileExtent(path: string, stats: Stats): FileExtent | undefined {
  if (!stats.isBlockDevice()) return { path, stats, start: 0, end: stats.size };
  const sys = sysfsDir(stats);
  return sys ? loopExtent(sys) : undefined;
}

/** What `path` is now; undefined when it does not exist. */
export function identify(path: string): DeviceIdentity | undefined {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (!stats) return undefined;
  if (!stats.isBlockDevice()) return { kind: 'file', sizeBytes: stats.size };
  const sys = sysfsDir(stats);
  const backingFile = sys ? loopExtent(sys)?.path : undefined;
  return { kind: 'block-device', sizeBytes: Number(sys ? readSys(`${sys}/size`) ?? 0 : 0) * 512, ...(backingFile ? { backingFile } : {}) };
}

/** Why `a` and `b` hold (some of) the same bytes, or undefined when they are independent. */
export function sharedStorage(a: string, b: string): string | undefined {
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  if (!sa || !sb) return undefined;
  if (sa.dev === sb.dev && sa.ino === sb.ino) return 'they are the same file or device';
  if (sa.isBlockDevice() && sb.isBlockDevice()) {
    if (sa.rdev === sb.rdev) return 'they are the same block device';
    const da = sysfsDir(sa);
    const db = sysfsDir(sb);
    if (da && db && db.startsWith(`${da}/`)) return `${b} is a partition of ${a}`;
    if (da && db && da.startsWith(`${db}/`)) return `${a} is a partition of ${b}`;
  }
  const fa = fileExtent(a, sa);
  const fb = fileExtent(b, sb);
  if (fa && fb && fa.stats.dev === fb.stats.dev && fa.stats.ino === fb.stats.ino && fa.start < fb.end && fb.start < fa.end) {
    return `both show bytes ${Math.max(fa.start, fb.start)}–${Math.min(fa.end, fb.end) - 1} of the file ${fa.path}`;
  }
  return undefined;
}

/** Why a journal's target is probably no longer the device it was written for, or undefined when it still matches. */
export function identityChange(path: string, recorded: DeviceIdentity): string | undefined {
  const now = identify(path);
  if (!now) return `${path} no longer exists`;
  if (now.kind !== recorded.kind) return `${path} is now a ${now.kind.replace('-', ' ')}`;
  if (now.backingFile !== recorded.backingFile) return `${path} now shows ${now.backingFile ?? 'no file'} instead of ${recorded.backingFile ?? 'no file'}`;
  if (now.sizeBytes !== recorded.sizeBytes) return `${path} now has ${now.sizeBytes} bytes instead of ${recorded.sizeBytes}`;
  return undefined;
}
