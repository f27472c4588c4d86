// The moves a plan asks for, in plan order, as journal records ready to run; and the checks that keep each copy off
// what it must not touch: data that does not exist yet, and other logical partitions' EBRs.
import { ShadowError } from '../../../sdk/index.js';
import { foldOperation, type FoldOptions } from '../ops/layout-fold.js';
import type { Operation } from '../ops/operation.js';
import type { DiskGeometry, Layout } from '../table/layout.js';
import type { MbrDisk } from '../table/mbr-disk.js';
import type { MoveProgress } from './block-mover.js';
import { chooseStepBytes } from './move-schedule.js';

export function plannedMoves(base: Layout | null, operations: readonly Operation[], geometry: DiskGeometry, options: FoldOptions): MoveProgress[] {
  const out: MoveProgress[] = [];
  const ss = geometry.sectorSize;
  // Byte ranges that hold data the plan must carry: the base's partitions, wherever earlier moves took them.
  const carried = new Set((base?.partitions ?? []).map((p) => `${p.startLba}+${p.sizeSectors}`));
  let layout = base;
  for (const operation of operations) {
    const before = layout;
    layout = foldOperation(layout, operation, geometry, options);
    if (operation.op === 'create-table') carried.clear();
    if (operation.op !== 'move' && operation.op !== 'copy') continue;
    if (operation.op === 'copy' && operation.from) {
      // From another disk: read there, so nothing on this disk is carried or overlapped.
      const { disk, startLba, sizeSectors } = operation.from;
      const lengthBytes = sizeSectors * ss;
      carried.add(`${operation.startLba}+${sizeSectors}`);
      out.push({
        partition: layout.partitions.find((p) => p.startLba === operation.startLba)!.number, newStartLba: operation.startLba, sectorSize: ss,
        srcDisk: disk, srcBytes: startLba * ss, dstBytes: operation.startLba * ss, lengthBytes, copy: true,
        stepBytes: chooseStepBytes(0, lengthBytes, lengthBytes, Math.max(4096, ss)), doneChunks: 0, finished: false,
      });
      continue;
    }
    const from = before!.partitions.find((p) => p.number === operation.number)!;
    if (!carried.has(`${from.startLba}+${from.sizeSectors}`)) {
      throw new ShadowError('INVALID_ARGUMENT', `Partition ${operation.number} is created in this plan, so it has no data to ${operation.op}; create it at sector ${operation.startLba} instead`);
    }
    if (operation.op === 'move') carried.delete(`${from.startLba}+${from.sizeSectors}`);
    carried.add(`${operation.startLba}+${from.sizeSectors}`);
    const srcBytes = from.startLba * ss;
    const dstBytes = operation.startLba * ss;
    const lengthBytes = from.sizeSectors * ss;
    out.push({
      partition: operation.op === 'copy' ? layout.partitions.find((p) => p.startLba === operation.startLba)!.number : operation.number, newStartLba: operation.startLba, sectorSize: ss, srcBytes, dstBytes, lengthBytes,
      ...(operation.op === 'copy' ? { copy: true } : {}),
      stepBytes: (operation.op === 'move' ? operation.stepBytes : undefined) ?? chooseStepBytes(srcBytes, dstBytes, lengthBytes, Math.max(4096, ss)), doneChunks: 0, finished: false,
    });
  }
  return out;
}

/** EBRs (of the table now and of the one to be written) that a move's destination would overwrite, other than its own. */
export function refuseEbrOverlap(moves: readonly MoveProgress[], current: MbrDisk | undefined, target: MbrDisk | undefined): void {
  for (const move of moves) {
    const first = move.dstBytes / move.sectorSize;
    const last = first + move.lengthBytes / move.sectorSize - 1;
    const ownOld = move.srcBytes / move.sectorSize;
    for (const [which, disk] of [['current', current], ['new', target]] as const) {
      for (const ebr of disk?.ebrs ?? []) {
        const logicalStart = ebr.lba + ebr.record.entries[0].firstLba;
        if (logicalStart === ownOld || logicalStart === move.newStartLba) continue;
        if (ebr.lba >= first && ebr.lba <= last) {
          throw new ShadowError('SIZE_MISMATCH', `Moving partition ${move.partition} to sectors ${first}–${last} would overwrite the ${which} EBR at sector ${ebr.lba} of the logical partition at ${logicalStart}; leave it room. Nothing was written`);
        }
      }
    }
  }
}
