// `part move <disk> <n> --start S | --by [-]SIZE [--step-size SIZE]`: the operation it queues.
import type { CommandArgs } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import type { Operation } from '../ops/operation.js';
import { parseSectors } from '../ops/size-spec.js';
import type { DiskGeometry, Layout } from '../table/layout.js';
import { partitionNumber } from '../part/args.js';

const option = (args: CommandArgs, name: string): string | undefined => (typeof args.options[name] === 'string' ? (args.options[name] as string) : undefined);

export function moveOperation(args: CommandArgs, geometry: DiskGeometry, before: Layout | null): Extract<Operation, { op: 'move' }> {
  const number = partitionNumber(args, 1);
  const start = option(args, 'start');
  const by = option(args, 'by');
  if ((start === undefined) === (by === undefined)) throw new ShadowError('INVALID_ARGUMENT', 'Say where to move it: --start SECTOR|SIZE (the new start) or --by [-]SIZE (the shift); one of them');
  let startLba: number;
  if (start !== undefined) startLba = parseSectors(start, geometry.sectorSize, 'start');
  else {
    const current = before?.partitions.find((p) => p.number === number);
    if (!current) throw new ShadowError('NOT_FOUND', `There is no partition ${number} to move`);
    const negative = by!.trim().startsWith('-');
    const shift = parseSectors(by!.trim().replace(/^[-+]/, ''), geometry.sectorSize, 'shift');
    startLba = current.startLba + (negative ? -shift : shift);
  }
  const step = option(args, 'step-size');
  const stepBytes = step === undefined ? undefined : parseSectors(step, 1, 'step size');
  return { op: 'move', number, startLba, ...(stepBytes !== undefined ? { stepBytes } : {}) };
}
