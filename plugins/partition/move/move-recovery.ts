// `part recover` for an apply interrupted while moving data: the moves are finished from their journal records
// (never undone: a half-moved partition has no other whole copy), then the target table saved before the first move
// is written, the kernel told, and the data steps left are run.
import type { CommandArgs, CommandResult, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { describePath } from '../block-devices.js';
import { DiskHandle } from '../io/disk-handle.js';
import type { ApplyJournal } from '../ops/apply-journal.js';
import { layoutFromJson } from '../ops/layout-json.js';
import { refuseBusy } from '../part/apply-checks.js';
import { journaledDataSteps, runDataSteps } from '../part/data-steps.js';
import { syncKernelPartitions } from '../part/kernel-sync.js';
import type { PartServices } from '../part/part-services.js';
import { runJournaledMoves, targetTableWrites } from './move-runner.js';
import { diskIdOf } from './journal-identity.js';

export async function finishInterruptedMoves(services: PartServices, start: ApplyJournal, dryRun: boolean, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const disk = start.disk;
  const target = layoutFromJson(start.target, `the apply journal of ${disk}`);
  using handle = DiskHandle.open(disk, dryRun ? 'r' : 'r+', target.geometry.sectorSize);
  if (handle.geometry.sectorCount !== target.geometry.sectorCount || handle.geometry.sectorSize !== target.geometry.sectorSize) {
    throw new ShadowError('PLAN_STALE', `${disk} has ${handle.geometry.sectorCount} sectors of ${handle.geometry.sectorSize} bytes, but the interrupted apply was on a disk of ${target.geometry.sectorCount} of ${target.geometry.sectorSize}; is this the same disk? Nothing was written`);
  }
  // Moves never change the disk id: another id means another disk now answers to this name.
  const id = diskIdOf(handle);
  if (id !== target.diskId.toLowerCase()) {
    throw new ShadowError('PLAN_STALE', `${disk} has disk id '${String(id)}', but the interrupted apply was on disk '${target.diskId}'; it is another disk now. Nothing was written; run 'shadowdisk part recover' on the disk with that id`);
  }
  const writes = targetTableWrites(start);
  const moves = start.moves ?? [];
  const left = moves.filter((m) => !m.finished);
  // The moved partitions' old and new places, and everything the target table has, must be free to write.
  const info = await describePath(disk);
  refuseBusy(info, [...target.partitions, ...moves.filter((m) => !m.srcDisk).map((m) => ({ number: m.partition, startLba: m.srcBytes / m.sectorSize, sizeSectors: m.lengthBytes / m.sectorSize }))]);
  const what = `finish moving ${left.map((m) => `partition ${m.partition} (${m.doneChunks} of ${Math.ceil(m.lengthBytes / m.stepBytes)} steps done)`).join(', ') || 'nothing (all moves are done)'}, then write the new table`;
  if (dryRun) return { data: { disk, dryRun: true, action: 'rolled-forward', state: start.state, moves: left.map((m) => ({ partition: m.partition, doneChunks: m.doneChunks })) }, text: `Dry run: would ${what} on ${disk}` };
  if (args.options['yes'] !== true && !(await run.confirm?.(`An apply on ${disk} was interrupted while moving data. ${what[0]!.toUpperCase()}${what.slice(1)}?`))) {
    throw new ShadowError('ABORTED', 'Not recovered: confirm with --yes (or answer yes on a terminal)');
  }
  let journal = await runJournaledMoves(services.journals, start, handle.isBlockDevice, run);
  handle.write(writes);
  journal = { ...journal, state: 'table-written' };
  services.journals.save(journal);
  if (handle.isBlockDevice) await syncKernelPartitions(disk, target);
  journal = { ...journal, state: 'kernel-updated' };
  services.journals.save(journal);
  const steps = journaledDataSteps(journal, target);
  await runDataSteps(services, { disk, isBlockDevice: handle.isBlockDevice, geometry: target.geometry, target, steps, journal }, run, 0);
  services.journals.remove(disk);
  services.plans.clear(disk);
  const report = left.map((m) => ({ partition: m.partition, resumedAtStep: m.current ? m.current.index + 1 : m.doneChunks + 1, steps: Math.ceil(m.lengthBytes / m.stepBytes), fromSavedCopy: m.current?.saved ?? false }));
  return {
    data: { disk, recovered: true, action: 'rolled-forward', moves: report },
    text: `Finished the interrupted apply on ${disk}: ${report.map((r) => `partition ${r.partition} resumed at step ${r.resumedAtStep} of ${r.steps}${r.fromSavedCopy ? ' from its saved copy' : ''}`).join('; ') || 'all moves were done'}; the new table is written`,
  };
}
