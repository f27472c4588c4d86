// `part apply`: re-read the disk, refuse a stale plan or busy targets, back up the table sectors, journal each step,
// write the table, tell the kernel, then run the data steps (mkfs, labels).
import type { CommandArgs, CommandResult, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { describePath } from '../block-devices.js';
import { DiskHandle } from '../io/disk-handle.js';
import type { ApplyJournal } from '../ops/apply-journal.js';
import { layoutToJson } from '../ops/layout-json.js';
import { changesTable, describeOperation } from '../ops/operation.js';
import { readDiskTable, rangesOf, writesForLayout } from '../table/partition-table.js';
import { fingerprintOf, type PartServices } from './part-services.js';
import { saveTableBackup } from './table-backup-file.js';
import { affectedPartitions, dataSteps, refuseBusy } from './apply-checks.js';
import { runDataSteps } from './data-steps.js';
import { diskArg, imageSectorSize, FOLD_OPTIONS } from './args.js';
import { syncKernelPartitions } from './kernel-sync.js';
import { foldPlan } from '../ops/layout-fold.js';
import { layoutTable } from './plan-view.js';
import { plannedMoves, refuseEbrOverlap } from '../move/planned-moves.js';
import { runJournaledMoves, saveTargetTable } from '../move/move-runner.js';
import { layoutToMbrDisk } from '../table/mbr-layout-build.js';
import { checkResizes, plannedResizes, runShrinks } from '../resize/resize-steps.js';
import { checkCopySources } from '../move/copy-to-disk.js';

export async function applyCommand(services: PartServices, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const disk = diskArg(args);
  const dryRun = args.options['dry-run'] === true;
  const unfinished = services.journals.load(disk);
  if (unfinished && unfinished.state !== 'done') {
    throw new ShadowError('RECOVERY_NEEDED', `An earlier apply on ${disk} was interrupted at '${unfinished.state}'; run 'shadowdisk part recover ${disk}' first`);
  }
  // A copy to another disk cut short still reads this one when it is finished: it must find the same bytes.
  const reader = services.journals.pending().find((j) => j.moves?.some((m) => m.srcDisk === disk && !m.finished));
  if (reader) {
    throw new ShadowError('RECOVERY_NEEDED', `An interrupted apply on ${reader.disk} is copying a partition of ${disk}; run 'shadowdisk part recover ${reader.disk}' first, then apply here`);
  }
  const plan = services.plans.load(disk);
  if (!plan || plan.operations.length === 0) throw new ShadowError('INVALID_ARGUMENT', `Nothing to apply: there are no pending operations for ${disk}`);

  using handle = DiskHandle.open(disk, dryRun ? 'r' : 'r+', imageSectorSize(args));
  const { geometry } = handle;
  const current = readDiskTable(handle.read, geometry);
  if (fingerprintOf(handle.read, geometry, current) !== plan.baseFingerprint || geometry.sectorCount !== plan.geometry.sectorCount || geometry.sectorSize !== plan.geometry.sectorSize) {
    throw new ShadowError('PLAN_STALE', `The partition table of ${disk} changed since its plan was made; nothing was written. Review it with 'shadowdisk part show ${disk}' and start over with 'shadowdisk part plan clear ${disk}'`);
  }
  const target = foldPlan(plan.base, plan.operations, geometry, FOLD_OPTIONS)!;
  const fresh = plan.operations.some((o) => o.op === 'create-table');
  const tableChanges = plan.operations.some(changesTable);
  const writes = tableChanges ? writesForLayout(current, target, geometry, fresh) : [];
  const steps = dataSteps(plan.base, plan.operations, geometry, target);
  const moves = plannedMoves(plan.base, plan.operations, geometry, FOLD_OPTIONS);
  if (moves.length > 0 && target.table === 'mbr') refuseEbrOverlap(moves, current.mbr, layoutToMbrDisk(target, current.mbr));
  const resizes = plannedResizes(plan.base, plan.operations, geometry, FOLD_OPTIONS);
  // A partition that only grows may stay mounted: its filesystem grows online (checkResizes says which can).
  const growOnly = new Set(resizes.filter((r) => r.toSectors > r.base.sizeSectors).map((r) => r.base.startLba));
  // A copy's source must not change while it is read: it counts as touched too.
  const copied = plan.base?.partitions.filter((p) => moves.some((m) => m.copy && !m.srcDisk && m.srcBytes === p.startLba * geometry.sectorSize)) ?? [];
  const affected = [...affectedPartitions(plan.base, target, fresh, steps).filter((p) => !growOnly.has(p.startLba)), ...copied];
  const before = await describePath(disk);
  refuseBusy(before, affected);
  const resizeContext = { disk, isBlockDevice: handle.isBlockDevice, geometry, mountpointOf: (p: { startLba: number; sizeSectors: number }) => before.partitions.find((k) => k.startBytes === p.startLba * before.logicalSectorSize && k.sizeBytes === p.sizeSectors * before.logicalSectorSize)?.mountpoints[0] };
  const fsTypes = await checkResizes(resizes, resizeContext, run);
  await checkCopySources(services, plan.operations);

  const summary = plan.operations.map((o, i) => `  ${i + 1}. ${describeOperation(o)}`).join('\n');
  if (dryRun) {
    return {
      data: { disk, dryRun: true, steps: plan.operations.map(describeOperation), sectorWrites: rangesOf(writes, geometry), predicted: layoutToJson(target), moves: moves.map(({ partition, srcDisk, srcBytes, dstBytes, lengthBytes, stepBytes }) => ({ partition, ...(srcDisk ? { srcDisk } : {}), srcBytes, dstBytes, lengthBytes, stepBytes })) },
      text: `Dry run: nothing was written. Applying would:\n${summary}\n${moves.map((m) => `move ${m.lengthBytes} bytes of partition ${m.partition} from byte ${m.srcBytes}${m.srcDisk ? ` of ${m.srcDisk}` : ''} to ${m.dstBytes} in steps of ${m.stepBytes} bytes, journaled,\n`).join('')}and write ${writes.length} table sector range(s): ${rangesOf(writes, geometry).map((r) => `${r.lba}+${r.count}`).join(', ') || 'none'}`,
    };
  }
  if (args.options['yes'] !== true && !(await run.confirm?.(`Apply these operations to ${disk}?\n${summary}\n`))) {
    throw new ShadowError('ABORTED', `Not applied: confirm with --yes (or answer yes on a terminal) to apply ${plan.operations.length} operation(s) to ${disk}`);
  }

  // The question may have waited a long time: check again, with nothing awaited between this check and the writes.
  const info = await describePath(disk);
  if (fingerprintOf(handle.read, geometry, readDiskTable(handle.read, geometry)) !== plan.baseFingerprint) {
    throw new ShadowError('PLAN_STALE', `The partition table of ${disk} changed while waiting for confirmation; nothing was written`);
  }
  refuseBusy(info, affected);
  await checkCopySources(services, plan.operations);

  // 1. Back up every sector we are about to overwrite, plus the current table, before touching the disk.
  const total = 3 + steps.length;
  run.progress({ phase: 'backup', done: 0, total });
  const backupFile = saveTableBackup(services.backupDir, handle, current, writes);
  let journal: ApplyJournal = { version: 1, disk, startedAt: new Date().toISOString(), state: 'backup-saved', backupFile, target: layoutToJson(target), dataSteps: steps.map((s) => ({ operation: { ...s.operation, number: s.partition.number }, done: false })) };
  if (moves.length > 0) journal = { ...journal, moves, targetTableFile: saveTargetTable(services.backupDir, handle, writes) };
  services.journals.save(journal);

  // 1a. Filesystems that shrink, inside their partitions as they are now.
  await runShrinks(resizes, fsTypes, resizeContext, run);

  // 1b. Partitions' data to their new places, journaled step by step; from here on recovery rolls forward.
  if (moves.length > 0) journal = { ...(await runJournaledMoves(services.journals, journal, handle.isBlockDevice, run)) };

  // 2. The table.
  run.progress({ phase: 'write table', done: 1, total });
  handle.write(writes);
  services.journals.save({ ...journal, state: 'table-written' });

  // 3. The kernel's view (block devices only; image files have no partition nodes).
  run.progress({ phase: 'update kernel', done: 2, total });
  const kernel = handle.isBlockDevice && tableChanges ? await syncKernelPartitions(disk, target) : { added: [], removed: [] };
  services.journals.save({ ...journal, state: 'kernel-updated' });

  // 4. Data steps, each journaled as done.
  await runDataSteps(services, { disk, isBlockDevice: handle.isBlockDevice, geometry, target, steps, journal: { ...journal, state: 'kernel-updated' } }, run, 3);
  services.journals.remove(disk);
  services.plans.clear(disk);

  const after = readDiskTable(handle.read, geometry);
  return {
    data: { disk, applied: plan.operations.length, backupFile, kernel, layout: after.layout && layoutToJson(after.layout) },
    text: `Applied ${plan.operations.length} operation(s) to ${disk}; the previous table is saved in ${backupFile}\n\n${after.layout ? layoutTable(after.layout, disk) : 'No partition table'}`,
  };
}
