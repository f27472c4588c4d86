// The disk or file that `image restore` and `disk copy` write: its geometry and the checks before the first write,
// opening it exclusively, wiping stale tables, and settling the table afterwards (backup GPT, kernel nodes).
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { blockDeviceGeometry } from '../../../native/index.js';
import type { PluginContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import type { BackupManifest, StreamManifest } from './backup-manifest.js';
import { mountsOf } from './mount-state.js';

export interface TargetGeometry {
  sizeBytes: number;
  sectorSize: number;
  isBlockDevice: boolean;
}

/** What is about to be written where: the source's description (an image's manifest or a planned copy) and the target. */
export interface RestorePlan {
  manifest: BackupManifest;
  target: string;
  targetBytes: number;
  isBlockDevice: boolean;
}

export async function targetGeometry(target: string): Promise<TargetGeometry> {
  const info = await stat(target).catch(() => {
    throw new ShadowError('NOT_FOUND', `Target '${target}' does not exist; give a block device or an existing image file`);
  });
  if (info.isBlockDevice()) {
    const g = blockDeviceGeometry(target);
    return { sizeBytes: Number(g.sizeBytes), sectorSize: g.logicalSectorSize, isBlockDevice: true };
  }
  if (!info.isFile()) throw new ShadowError('INVALID_ARGUMENT', `Target '${target}' is neither a block device nor a file`);
  return { sizeBytes: info.size, sectorSize: 512, isBlockDevice: false };
}

/**
 * The target is big enough, has the source disk's sector size (a partition table counts in sectors) and nothing has
 * it mounted. `verb` and `from` name the operation in messages: ('restore', "the image's") or ('copy', 'the source').
 */
export async function checkTarget(manifest: BackupManifest, target: string, verb: string, from: string): Promise<RestorePlan> {
  const geometry = await targetGeometry(target);
  const { source } = manifest;
  if (geometry.sizeBytes < source.sizeBytes) {
    throw new ShadowError('SIZE_MISMATCH', `Target ${target} has ${geometry.sizeBytes} bytes but ${from} ${source.kind} had ${source.sizeBytes}; ${verb} to a target of the same size or larger`);
  }
  if (source.kind === 'disk' && geometry.isBlockDevice && geometry.sectorSize !== source.sectorSize) {
    throw new ShadowError('SIZE_MISMATCH', `Target ${target} has ${geometry.sectorSize}-byte sectors but ${from} disk had ${source.sectorSize}-byte sectors; its partition table would point at the wrong places`);
  }
  const mounted = mountsOf(target);
  if (mounted.length > 0) {
    throw new ShadowError('TARGET_BUSY', `Cannot ${verb} onto ${target}: ${mounted.map((m) => `${m.device} is mounted on ${m.mountpoint}`).join('; ')}. Nothing was written`);
  }
  return { manifest, target, targetBytes: geometry.sizeBytes, isBlockDevice: geometry.isBlockDevice };
}

/**
 * Block devices are opened exclusively: the kernel then refuses (EBUSY) a device that is mounted, used as swap or held
 * by another device, closing the gap between the busy check and the first write.
 */
export async function openTarget(target: string, isBlockDevice: boolean): Promise<FileHandle> {
  try {
    return await open(target, isBlockDevice ? constants.O_RDWR | constants.O_EXCL : 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EBUSY') throw new ShadowError('TARGET_BUSY', `Cannot write to ${target}: it is in use (mounted, swap or held by another device). Nothing was written`);
    throw ShadowError.from(error, 'IO_ERROR');
  }
}

/** Zeros the sectors where a partition table can hide (the first and last MiB), so no stale GPT survives a restore. */
export async function wipeTableAreas(target: string, sizeBytes: number, isBlockDevice: boolean): Promise<void> {
  const handle = await openTarget(target, isBlockDevice);
  try {
    const area = Math.min(1024 * 1024, sizeBytes);
    const zeros = new Uint8Array(area);
    await handle.write(zeros, 0, area, 0);
    await handle.write(zeros, 0, area, sizeBytes - area);
  } finally {
    await handle.close();
  }
}

/** Writes zeros over the blocks of a zero-elided stream that `wanted` leaves out: they were zero at the source. */
export async function zeroExcluded(handle: FileHandle, stream: StreamManifest, wanted: Uint8Array): Promise<number> {
  const zeros = new Uint8Array(1024 * 1024);
  const blocks = Math.ceil(stream.sizeBytes / stream.blockSize);
  let written = 0;
  for (let block = 0; block < blocks; ) {
    if ((wanted[block >> 3]! >> (block & 7)) & 1) {
      block++;
      continue;
    }
    const first = block;
    while (block < blocks && !((wanted[block >> 3]! >> (block & 7)) & 1)) block++;
    let offset = first * stream.blockSize;
    const end = Math.min(block * stream.blockSize, stream.sizeBytes);
    while (offset < end) {
      const length = Math.min(zeros.length, end - offset);
      await handle.write(zeros, 0, length, stream.startBytes + offset);
      offset += length;
      written += length;
    }
  }
  return written;
}

/**
 * After a whole disk was written: on a larger target the backup GPT sits where the old disk ended, so it is moved to
 * the new end; and the kernel's partition nodes of a block device are brought in line with the new table.
 * Returns whether the backup GPT was moved. `report` sees the phase start and end (done 0, then 1, of 1).
 */
export async function settleTargetTable(ctx: PluginContext, plan: RestorePlan, report?: { progress(p: { phase: string; done: number; total: number }): void }): Promise<boolean> {
  report?.progress({ phase: 'settle table', done: 0, total: 1 });
  const moved = await settleTable(ctx, plan);
  report?.progress({ phase: 'settle table', done: 1, total: 1 });
  return moved;
}

async function settleTable(ctx: PluginContext, plan: RestorePlan): Promise<boolean> {
  if (plan.manifest.source.kind !== 'disk') return false;
  let moved = false;
  if (plan.manifest.table?.kind === 'gpt' && plan.targetBytes > plan.manifest.source.sizeBytes) {
    const shown = (await ctx.commands.executeCommand('shadowdisk.partition.part-show', { positionals: [plan.target] })).data as { damaged: string[] };
    if (shown.damaged.length > 0) {
      await ctx.commands.executeCommand('shadowdisk.partition.part-repair', { positionals: [plan.target], options: { yes: true } });
      moved = true;
    }
  }
  if (plan.isBlockDevice) await ctx.commands.executeCommand('shadowdisk.partition.part-rescan', { positionals: [plan.target] });
  return moved;
}
