// What an apply touches, and the refusal when any of it is in use (mounted, swap, held by another device).
import { ShadowError } from '../../../sdk/index.js';
import type { DiskInfo } from '../block-devices.js';
import { foldOperation } from '../ops/layout-fold.js';
import type { Operation } from '../ops/operation.js';
import { FOLD_OPTIONS } from './args.js';
import type { DiskGeometry, Layout, LayoutPartition } from '../table/layout.js';

export interface DataStep {
  /** A 'resize' here is a growth: the filesystem grows after the table is written (shrinks come before it). */
  operation: Extract<Operation, { op: 'format' | 'set-label' | 'resize' | 'copy' }>;
  /** The partition in the final layout that the step works on (numbers can shift between queueing and apply). */
  partition: LayoutPartition;
}

/** Data steps with their partitions resolved by position: the step's number as it was when queued, mapped to the target. */
export function dataSteps(base: Layout | null, operations: readonly Operation[], geometry: DiskGeometry, target: Layout): DataStep[] {
  const out: DataStep[] = [];
  let layout = base;
  for (const operation of operations) {
    const grows = operation.op === 'resize' && operation.sizeSectors > layout!.partitions.find((p) => p.number === operation.number)!.sizeSectors;
    layout = foldOperation(layout, operation, geometry, FOLD_OPTIONS);
    if (operation.op !== 'format' && operation.op !== 'set-label' && operation.op !== 'copy' && !grows) continue;
    // A copy's data step (a new filesystem UUID) works on the new partition.
    const then = layout.partitions.find((p) => (operation.op === 'copy' ? p.startLba === operation.startLba : p.number === operation.number))!;
    const partition = target.partitions.find((p) => p.startLba === then.startLba && p.sizeSectors === then.sizeSectors);
    // A later step deleted or replaced it: the data step has nothing left to work on.
    if (partition) out.push({ operation: operation as DataStep['operation'], partition });
  }
  return out;
}

/** Base partitions that the apply deletes, moves, resizes, reformats or relabels (or all, for a new table). */
export function affectedPartitions(base: Layout | null, target: Layout, fresh: boolean, steps: readonly DataStep[]): LayoutPartition[] {
  if (!base) return [];
  return base.partitions.filter((p) => {
    if (fresh) return true;
    // Same place and same number: a logical that moves up a number gets a new kernel node, so it counts as touched.
    const kept = target.partitions.find((t) => t.startLba === p.startLba && t.sizeSectors === p.sizeSectors && t.number === p.number);
    return !kept || steps.some((s) => s.partition === kept);
  });
}

export function refuseBusy(disk: DiskInfo, affected: readonly LayoutPartition[]): void {
  const reasons: string[] = [];
  if (disk.kind === 'image-file') reasons.push(...disk.busyReasons);
  for (const mp of disk.mountpoints) reasons.push(`${disk.path} is mounted on ${mp}`);
  for (const holder of disk.holders) reasons.push(`${disk.path} is held by ${holder}`);
  if (disk.swap) reasons.push(`${disk.path} is in use as swap`);
  const scale = disk.logicalSectorSize;
  for (const p of affected) {
    const node = disk.partitions.find((k) => k.startBytes === p.startLba * scale && k.sizeBytes === p.sizeSectors * scale);
    if (!node) continue;
    for (const mp of node.mountpoints) reasons.push(`${node.path} is mounted on ${mp}`);
    for (const holder of node.holders) reasons.push(`${node.path} is held by ${holder}`);
    if (node.swap) reasons.push(`${node.path} is in use as swap`);
  }
  if (reasons.length > 0) {
    throw new ShadowError('TARGET_BUSY', `Cannot apply the plan to ${disk.path}: ${reasons.join('; ')}. Nothing was written; unmount or release them first`, { details: { reasons } });
  }
}
