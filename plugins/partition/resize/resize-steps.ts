// Resizes inside an apply: what the plan shrinks or grows, the checks made before anything is written (the filesystem
// can be resized, a shrink is not below its minimum, a mounted partition only grows online), the shrinks run before
// the table is written, and the growth a data step runs after it.
import type { RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';
import { foldOperation, type FoldOptions } from '../ops/layout-fold.js';
import type { Operation } from '../ops/operation.js';
import { probeFilesystem, withPartitionDevice } from '../part/partition-device.js';
import type { DiskGeometry, Layout, LayoutPartition } from '../table/layout.js';
import { canResizeExtOnline, growFilesystem, minimumSizeBytes, RESIZABLE, shrinkFilesystem } from './fs-resize.js';
import { checkFatResize } from './fat-resize.js';

export interface PlannedResize {
  /** The partition as it is on the disk now. */
  readonly base: LayoutPartition;
  readonly toSectors: number;
}

const formatMiB = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Resizes of partitions that exist on the disk now; one per partition, none of a partition the plan also moves. */
export function plannedResizes(base: Layout | null, operations: readonly Operation[], geometry: DiskGeometry, options: FoldOptions): PlannedResize[] {
  const out: PlannedResize[] = [];
  let layout = base;
  for (const operation of operations) {
    const before = layout;
    layout = foldOperation(layout, operation, geometry, options);
    if (operation.op !== 'resize') continue;
    const then = before!.partitions.find((p) => p.number === operation.number)!;
    const original = base?.partitions.find((p) => p.startLba === then.startLba && p.sizeSectors === then.sizeSectors);
    if (!original || out.some((r) => r.base === original)) {
      throw new ShadowError('INVALID_ARGUMENT', `Partition ${operation.number} is created, moved or already resized in this plan; apply that first, then resize it`);
    }
    if (operations.some((o) => o.op === 'move' && o.number === operation.number)) {
      throw new ShadowError('INVALID_ARGUMENT', `Partition ${operation.number} is both moved and resized in this plan; apply one, then queue the other`);
    }
    out.push({ base: original, toSectors: operation.sizeSectors });
  }
  return out;
}

export interface DiskContext {
  disk: string;
  isBlockDevice: boolean;
  geometry: DiskGeometry;
  /** Mountpoints of the disk's partition nodes, by node path. */
  mountpointOf(partition: LayoutPartition): string | undefined;
}

/** Before anything is written: every resized filesystem can be resized that way, and fits. Returns their types. */
export async function checkResizes(resizes: readonly PlannedResize[], context: DiskContext, run: RunContext): Promise<Map<PlannedResize, string>> {
  const types = new Map<PlannedResize, string>();
  for (const resize of resizes) {
    const { number } = resize.base;
    const shrink = resize.toSectors < resize.base.sizeSectors;
    const mountpoint = context.mountpointOf(resize.base);
    await withPartitionDevice(context.disk, context.isBlockDevice, context.geometry, resize.base, async (device) => {
      const type = await probeFilesystem(device, run.signal);
      if (!type) throw new ShadowError('UNSUPPORTED', `Partition ${number} holds no filesystem blkid knows; resizing it would only change the table. Delete and recreate it instead`);
      if (!(RESIZABLE as readonly string[]).includes(type) || (type === 'xfs' && shrink)) {
        throw new ShadowError('UNSUPPORTED', `Cannot ${shrink ? 'shrink' : 'grow'} the ${type} filesystem of partition ${number}: ${type === 'xfs' ? 'XFS can only grow' : `no tool here resizes ${type}`}. Nothing was written`);
      }
      if (mountpoint && (shrink || type === 'ntfs' || type === 'vfat')) {
        throw new ShadowError('TARGET_BUSY', `Partition ${number} is mounted on ${mountpoint}; only ext2/3/4, XFS and btrfs grow while mounted. Unmount it first. Nothing was written`);
      }
      if (mountpoint && type.startsWith('ext') && !canResizeExtOnline()) {
        throw new ShadowError('PERMISSION_DENIED', `Partition ${number} (${type}) is mounted on ${mountpoint}, and growing a mounted ${type} needs the CAP_SYS_RESOURCE capability, which this process lacks (a container?). Unmount it and apply again to grow it offline. Nothing was written`);
      }
      const wanted = resize.toSectors * context.geometry.sectorSize;
      const minimum = shrink ? await minimumSizeBytes(device, type, run) : undefined;
      if (minimum !== undefined && wanted < minimum) {
        throw new ShadowError('SIZE_MISMATCH', `Partition ${number}'s ${type} filesystem needs at least ${formatMiB(minimum)} (${minimum} bytes); ${formatMiB(wanted)} is too small. Nothing was written`, { details: { minimumBytes: minimum } });
      }
      // fatresize rounds sizes and may want to change the FAT type: a trial on a scratch copy of the metadata says.
      if (type === 'vfat') await checkFatResize(device, wanted, run, minimum);
      types.set(resize, type);
    });
  }
  return types;
}

/** Shrinks the filesystems the plan shrinks, at their partitions' present size (before the table is written). */
export async function runShrinks(resizes: readonly PlannedResize[], types: ReadonlyMap<PlannedResize, string>, context: DiskContext, run: RunContext): Promise<void> {
  for (const resize of resizes.filter((r) => r.toSectors < r.base.sizeSectors)) {
    run.signal.throwIfAborted();
    run.progress({ phase: `shrink the filesystem of partition ${resize.base.number}`, done: 0, total: 1 });
    await withPartitionDevice(context.disk, context.isBlockDevice, context.geometry, resize.base, (device) =>
      shrinkFilesystem(device, types.get(resize)!, resize.toSectors * context.geometry.sectorSize, run));
  }
}

/** The data step of a growth: the filesystem fills its (already larger) partition, online when it is mounted. */
export async function growPartitionFilesystem(device: string, number: number, run: RunContext): Promise<void> {
  const type = await probeFilesystem(device, run.signal);
  if (!type) throw new ShadowError('NOT_FOUND', `Partition ${number} holds no filesystem to grow`);
  const mounted = await runTool('findmnt', ['-n', '-o', 'TARGET', '--first-only', '--source', device], { okCodes: [0, 1], signal: run.signal });
  await growFilesystem(device, type, mounted.stdout.trim() || undefined, run);
}
