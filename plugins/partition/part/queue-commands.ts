// The queueing `part` commands: each adds one operation to the disk's plan, after checking the whole plan still folds.
import { randomBytes } from 'node:crypto';
import type { CommandArgs, CommandResult } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { foldPlan } from '../ops/layout-fold.js';
import { FS_TYPES, type FsType, type Operation, type PartitionFlag } from '../ops/operation.js';
import { pushOperation, redo, undo, type Plan } from '../ops/plan-store.js';
import { parseSectors } from '../ops/size-spec.js';
import { randomGuid } from '../table/guid.js';
import type { DiskGeometry, Layout } from '../table/layout.js';
import type { PartServices } from './part-services.js';
import { planResult } from './plan-view.js';
import { diskArg, FOLD_OPTIONS, imageSectorSize, partitionNumber, positional } from './args.js';
import { moveOperation } from '../move/move-args.js';
import { copyFromDiskOperation } from '../move/copy-to-disk.js';

/** The plan of a disk, started from the disk as it is now when there is none; refuses a plan the disk no longer matches. */
export function currentPlan(services: PartServices, disk: string, args: CommandArgs): Plan {
  const now = services.inspect(disk, imageSectorSize(args));
  const plan = services.plans.load(disk);
  if (plan && plan.baseFingerprint !== now.fingerprint) {
    throw new ShadowError('PLAN_STALE', `The partition table of ${disk} changed since its plan was made; review it with 'shadowdisk part show ${disk}' and start over with 'shadowdisk part plan clear ${disk}'`);
  }
  return plan ?? { disk, geometry: now.geometry, baseFingerprint: now.fingerprint, base: now.table.layout, operations: [], redo: [] };
}

function queue(services: PartServices, args: CommandArgs, make: (geometry: DiskGeometry, before: Layout | null) => Operation): CommandResult {
  const disk = diskArg(args);
  const plan = currentPlan(services, disk, args);
  const before = foldPlan(plan.base, plan.operations, plan.geometry, FOLD_OPTIONS);
  const next = pushOperation(plan, make(plan.geometry, before));
  const predicted = foldPlan(next.base, next.operations, next.geometry, FOLD_OPTIONS);
  services.plans.save(next);
  return planResult(next, predicted);
}

const str = (args: CommandArgs, name: string): string | undefined => (typeof args.options[name] === 'string' ? (args.options[name] as string) : undefined);

export const queueCommands = (services: PartServices) => ({
  createTable: (args: CommandArgs) => queue(services, args, () => {
    const table = positional(args, 1, "the table type ('mbr' or 'gpt')");
    if (table !== 'mbr' && table !== 'gpt') throw new ShadowError('INVALID_ARGUMENT', `The table type must be 'mbr' or 'gpt', got '${table}'`);
    return { op: 'create-table', table, diskId: table === 'gpt' ? randomGuid() : `0x${randomBytes(4).toString('hex')}` };
  }),
  create: (args: CommandArgs) => queue(services, args, (geometry, before) => {
    const role = str(args, 'role');
    if (role !== undefined && role !== 'primary' && role !== 'extended' && role !== 'logical') throw new ShadowError('INVALID_ARGUMENT', `--role must be primary, extended or logical, got '${role}'`);
    const start = str(args, 'start');
    const size = str(args, 'size');
    const type = str(args, 'type');
    const name = str(args, 'name');
    return {
      op: 'create',
      ...(role ? { role } : {}),
      ...(start ? { startLba: parseSectors(start, geometry.sectorSize, 'start') } : {}),
      ...(size ? { sizeSectors: parseSectors(size, geometry.sectorSize, 'size') } : {}),
      ...(type ? { type } : {}),
      ...(name !== undefined ? { name } : {}),
      // Fixed now, so the preview shows exactly what apply writes; MBR has no partition UUIDs.
      ...(before?.table === 'gpt' ? { uuid: str(args, 'uuid')?.toLowerCase() ?? randomGuid() } : {}),
    };
  }),
  delete: (args: CommandArgs) => queue(services, args, () => ({ op: 'delete', number: partitionNumber(args, 1) })),
  move: (args: CommandArgs) => queue(services, args, (geometry, before) => moveOperation(args, geometry, before)),
  convert: (args: CommandArgs) => queue(services, args, (_geometry, before) => {
    const table = positional(args, 1, "the table to convert to ('gpt' or 'mbr')");
    if (table !== 'mbr' && table !== 'gpt') throw new ShadowError('INVALID_ARGUMENT', `Convert to 'mbr' or 'gpt', not '${table}'`);
    const uuids = table === 'gpt' ? Object.fromEntries((before?.partitions ?? []).map((p) => [String(p.number), randomGuid()])) : undefined;
    return { op: 'convert-table', table, diskId: table === 'gpt' ? randomGuid() : `0x${randomBytes(4).toString('hex')}`, ...(uuids ? { uuids } : {}), ...(args.options['drop-names'] === true ? { dropNames: true } : {}) };
  }),
  copy: (args: CommandArgs) => {
    const start = () => str(args, 'start') ?? positional(args, 2, 'where the copy starts (--start S)');
    const to = str(args, 'to');
    if (to !== undefined) {
      // Queued in the target disk's plan: that disk's table is what changes.
      const source = diskArg(args);
      const target = diskArg({ ...args, positionals: [to] });
      return queue(services, { ...args, positionals: [target] }, (geometry, before) =>
        copyFromDiskOperation(services, source, partitionNumber(args, 1), target, start(), geometry, before, args, randomGuid));
    }
    return queue(services, args, (geometry, before) => ({
      op: 'copy', number: partitionNumber(args, 1), startLba: parseSectors(start(), geometry.sectorSize, 'start'),
      ...(before?.table === 'gpt' ? { uuid: randomGuid() } : {}),
    }));
  },
  resize: (args: CommandArgs) => queue(services, args, (geometry) => ({ op: 'resize', number: partitionNumber(args, 1), sizeSectors: parseSectors(positional(args, 2, 'the new size (like 512MiB or 1048576s)'), geometry.sectorSize, 'size') })),
  set: (args: CommandArgs) => queue(services, args, () => {
    const number = partitionNumber(args, 1);
    const what = positional(args, 2, 'what to set (type, name, uuid, attributes, role or flag)');
    const value = positional(args, 3, `the new ${what}`);
    switch (what) {
      case 'type': return { op: 'set-type', number, type: value };
      case 'name': return { op: 'set-name', number, name: value };
      case 'uuid': return { op: 'set-uuid', number, uuid: value };
      case 'attributes': return { op: 'set-attributes', number, attributes: value };
      case 'role':
        if (value !== 'primary' && value !== 'logical') throw new ShadowError('INVALID_ARGUMENT', `A role is 'primary' or 'logical', not '${value}'`);
        return { op: 'set-role', number, role: value };
      case 'flag': {
        const flags: PartitionFlag[] = ['boot', 'hidden', 'legacy-boot', 'no-automount', 'required'];
        if (!flags.includes(value as PartitionFlag)) throw new ShadowError('INVALID_ARGUMENT', `Unknown flag '${value}'; use ${flags.join(', ')}`);
        const state = positional(args, 4, "'on' or 'off'");
        if (state !== 'on' && state !== 'off') throw new ShadowError('INVALID_ARGUMENT', `A flag is turned 'on' or 'off', not '${state}'`);
        return { op: 'set-flag', number, flag: value as PartitionFlag, on: state === 'on' };
      }
      default: throw new ShadowError('INVALID_ARGUMENT', `Cannot set '${what}'; use type, name, uuid, attributes, role or flag`);
    }
  }),
  format: (args: CommandArgs) => queue(services, args, () => {
    const number = partitionNumber(args, 1);
    const fs = positional(args, 2, `the filesystem (${FS_TYPES.join(', ')})`);
    if (!FS_TYPES.includes(fs as FsType)) throw new ShadowError('INVALID_ARGUMENT', `Unknown filesystem '${fs}'; use ${FS_TYPES.join(', ')}`);
    const label = str(args, 'label');
    return { op: 'format', number, fs: fs as FsType, ...(label !== undefined ? { label } : {}) };
  }),
  label: (args: CommandArgs) => queue(services, args, () => ({ op: 'set-label', number: partitionNumber(args, 1), label: positional(args, 2, 'the label') })),
  undo: (args: CommandArgs) => editPlan(services, args, undo),
  redo: (args: CommandArgs) => editPlan(services, args, redo),
  show: (args: CommandArgs) => {
    const plan = currentPlan(services, diskArg(args), args);
    return planResult(plan, foldPlan(plan.base, plan.operations, plan.geometry, FOLD_OPTIONS));
  },
  clear: (args: CommandArgs) => {
    const disk = diskArg(args);
    const removed = services.plans.clear(disk);
    return { data: { disk, cleared: removed }, text: removed ? `Cleared the plan for ${disk}` : `There was no plan for ${disk}` };
  },
});

function editPlan(services: PartServices, args: CommandArgs, edit: (plan: Plan) => Plan): CommandResult {
  const disk = diskArg(args);
  const plan = services.plans.load(disk);
  if (!plan) throw new ShadowError('INVALID_ARGUMENT', `There is no plan for ${disk}`);
  const next = edit(plan);
  const predicted = foldPlan(next.base, next.operations, next.geometry, FOLD_OPTIONS);
  services.plans.save(next);
  return planResult(next, predicted);
}
