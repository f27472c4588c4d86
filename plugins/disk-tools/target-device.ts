// The disk, partition or image file a disk tool works on: its geometry, where it sits on its disk, and why it is busy
// (asked of the partition plugin's `disks` command, which knows mounts, holders and swap).
import { constants, realpathSync, statSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { blockDeviceGeometry } from '../../native/index.js';
import type { PluginContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';

export interface TargetDevice {
  path: string;
  kind: 'disk' | 'partition' | 'image-file';
  sizeBytes: number;
  logicalSectorSize: number;
  /** The whole disk holding a partition (the path itself for disks and image files). */
  diskPath: string;
  /** Where a partition starts on its disk; 0 otherwise. */
  startBytes: number;
  /** Why writing to it now would hurt: mounts, holders, swap, loop attachments (of it or, for a disk, its partitions). */
  busyReasons: string[];
  /** For a disk: the partitions the kernel knows on it. */
  partitions: { path: string; number: number; startBytes: number; sizeBytes: number }[];
}

interface DisksAnswer {
  disks: { path: string; busyReasons: string[]; partitions: { path: string; number: number; startBytes: number; sizeBytes: number }[] }[];
}

async function sysText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').then((text) => text.trim(), () => undefined);
}

export async function resolveTarget(ctx: PluginContext, given: string): Promise<TargetDevice> {
  const path = resolve(given);
  let info;
  try {
    info = statSync(path);
  } catch {
    throw new ShadowError('NOT_FOUND', `'${given}' does not exist; give a disk like /dev/sdb, a partition like /dev/sdb1 or an image file`);
  }
  if (info.isFile()) {
    const disks = (await ctx.commands.executeCommand('shadowdisk.partition.disks', { positionals: [path] })).data as DisksAnswer;
    return { path, kind: 'image-file', sizeBytes: info.size, logicalSectorSize: 512, diskPath: path, startBytes: 0, busyReasons: disks.disks[0]?.busyReasons ?? [], partitions: [] };
  }
  if (!info.isBlockDevice()) throw new ShadowError('INVALID_ARGUMENT', `'${given}' is neither a block device nor an image file`);
  const devNumber = `${Number((BigInt(info.rdev) >> 8n) & 0xfffn)}:${Number((BigInt(info.rdev) & 0xffn) | ((BigInt(info.rdev) >> 12n) & 0xfff00n))}`;
  const sysPath = realpathSync(`/sys/dev/block/${devNumber}`);
  const isPartition = (await sysText(`${sysPath}/partition`)) !== undefined;
  const diskPath = `/dev/${basename(isPartition ? dirname(sysPath) : sysPath)}`;
  const geometry = blockDeviceGeometry(path);
  const disks = (await ctx.commands.executeCommand('shadowdisk.partition.disks', { positionals: [diskPath] })).data as DisksAnswer;
  const disk = disks.disks[0]!;
  const name = `/dev/${basename(sysPath)}`;
  // A disk is busy when any of its partitions is; a partition only through itself.
  const busyReasons = isPartition ? disk.busyReasons.filter((reason) => reason.startsWith(`${name} `)) : disk.busyReasons;
  return {
    path, kind: isPartition ? 'partition' : 'disk', sizeBytes: Number(geometry.sizeBytes), logicalSectorSize: geometry.logicalSectorSize, diskPath,
    startBytes: isPartition ? Number((await sysText(`${sysPath}/start`)) ?? 0) * 512 : 0, busyReasons, partitions: isPartition ? [] : disk.partitions,
  };
}

/** Every disk and partition the kernel lists (image files left out). */
export async function allBlockDevices(ctx: PluginContext): Promise<string[]> {
  const { disks } = (await ctx.commands.executeCommand('shadowdisk.partition.disks', {})).data as { disks: (DisksAnswer['disks'][number] & { kind: string })[] };
  return disks.filter((d) => d.kind === 'block-device').flatMap((d) => [d.path, ...d.partitions.map((p) => p.path)]);
}

/** TARGET_BUSY naming every reason, with `nothing was written` since callers check before any write. */
export function refuseBusy(target: TargetDevice, verb: string): void {
  if (target.busyReasons.length === 0) return;
  throw new ShadowError('TARGET_BUSY', `Cannot ${verb} ${target.path}: ${target.busyReasons.join('; ')}. Nothing was written; unmount or release it first`, { details: { reasons: target.busyReasons } });
}

/**
 * Opens a block device exclusively (the kernel then refuses one that is mounted, swap or held, closing the gap after
 * the busy check) or an image file for writing.
 */
export async function openForWriting(target: TargetDevice): Promise<FileHandle> {
  try {
    return await open(target.path, target.kind === 'image-file' ? constants.O_RDWR : constants.O_RDWR | constants.O_EXCL);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EBUSY') {
      throw new ShadowError('TARGET_BUSY', `Cannot write to ${target.path}: the kernel says it is in use (mounted, swap or held by another device). Nothing was written`);
    }
    throw ShadowError.from(error, 'IO_ERROR');
  }
}
