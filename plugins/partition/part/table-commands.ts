// `part show`, `part repair`, `part backup`, `part restore-table`, `part check`, `part recover`: commands that act now.
import { readFileSync, writeFileSync } from 'node:fs';
import type { CommandArgs, CommandResult, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { describePath } from '../block-devices.js';
import { handlerForType } from '../fs/filesystem-handler.js';
import { DiskHandle } from '../io/disk-handle.js';
import { layoutFromJson, layoutToJson } from '../ops/layout-json.js';
import { sfdiskDump } from '../ops/sfdisk-dump.js';
import { captureTableBackup, parseTableBackup } from '../ops/table-backup.js';
import { readDiskTable, repairWrites } from '../table/partition-table.js';
import { overlayReader, type SectorWrite } from '../table/sector-io.js';
import { refuseBusy } from './apply-checks.js';
import { saveTableBackup } from './table-backup-file.js';
import { journaledDataSteps, runDataSteps } from './data-steps.js';
import { syncKernelPartitions } from './kernel-sync.js';
import type { PartServices } from './part-services.js';
import { probeFilesystem, withPartitionDevice } from './partition-device.js';
import { layoutTable } from './plan-view.js';
import { diskArg, imageSectorSize, partitionNumber, positional } from './args.js';
import { journalForDisk } from '../move/journal-identity.js';
import { finishInterruptedMoves } from '../move/move-recovery.js';

/** The table as it is, or 'none' when an interrupted write left it unreadable (recovery must still be possible). */
function readDiskTableOrNone(handle: DiskHandle): { layout: ReturnType<typeof readDiskTable>['layout']; tableRanges?: ReturnType<typeof readDiskTable>['tableRanges'] } {
  try {
    return readDiskTable(handle.read, handle.geometry);
  } catch {
    return { layout: null };
  }
}

/**
 * Writes table sectors under the apply journal: an interrupted write is found at the next start and rolled back by
 * `part recover` from `backupFile` (saved before), as an interrupted apply's table write is.
 */
function journaledTableWrite(services: PartServices, disk: string, handle: DiskHandle, backupFile: string, target: NonNullable<ReturnType<typeof readDiskTable>['layout']>, writes: readonly SectorWrite[]): void {
  services.journals.save({ version: 1, disk, startedAt: new Date().toISOString(), state: 'backup-saved', backupFile, target: layoutToJson(target), dataSteps: [] });
  handle.write(writes);
  services.journals.remove(disk);
}

/**
 * An interrupted apply comes first: its journal would be lost under ours. An unreadable journal does not block
 * `restore-table`, the way out that its own error message names.
 */
function refuseUnfinished(services: PartServices, disk: string, allowUnreadable: boolean): void {
  let unfinished;
  try {
    unfinished = services.journals.load(disk);
  } catch (error) {
    if (allowUnreadable) return;
    throw error;
  }
  if (unfinished && unfinished.state !== 'done') {
    throw new ShadowError('RECOVERY_NEEDED', `An earlier apply on ${disk} was interrupted at '${unfinished.state}'; run 'shadowdisk part recover ${disk}' first. Nothing was written`);
  }
}

export const tableCommands = (services: PartServices) => ({
  show(args: CommandArgs): CommandResult {
    const disk = diskArg(args);
    const { geometry, table } = services.inspect(disk, imageSectorSize(args));
    const pending = services.plans.load(disk)?.operations.length ?? 0;
    const data = { disk, table: table.kind, geometry, tableRanges: table.tableRanges, warnings: table.warnings, damaged: table.damaged, pendingOperations: pending, layout: table.layout && layoutToJson(table.layout), sfdiskDump: table.layout && sfdiskDump(table.layout, disk) };
    const text = [
      table.layout ? layoutTable(table.layout, disk) : `${disk}: no partition table (${geometry.sectorCount} sectors of ${geometry.sectorSize} bytes)`,
      ...table.warnings.map((w) => `warning: ${w}`),
      ...(pending ? [`${pending} pending operation(s): see 'shadowdisk part plan ${disk}'`] : []),
    ].join('\n');
    return { data, text };
  },

  async repair(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const disk = diskArg(args);
    using handle = DiskHandle.open(disk, args.options['dry-run'] === true ? 'r' : 'r+', imageSectorSize(args));
    const current = readDiskTable(handle.read, handle.geometry);
    const writes = repairWrites(current, handle.geometry);
    refuseUnfinished(services, disk, false);
    if (writes.length === 0) return { data: { disk, repaired: [] }, text: `Both GPT copies of ${disk} are good; nothing to repair` };
    if (args.options['dry-run'] === true) return { data: { disk, dryRun: true, wouldRepair: current.damaged }, text: `Dry run: would rewrite the damaged ${current.damaged.join(' and ')} of ${disk}` };
    if (args.options['yes'] !== true && !(await run.confirm?.(`Rewrite the damaged ${current.damaged.join(' and ')} of ${disk} from the good copy?`))) {
      throw new ShadowError('ABORTED', 'Not repaired: confirm with --yes (or answer yes on a terminal)');
    }
    const backupFile = saveTableBackup(services.backupDir, handle, current, writes);
    journaledTableWrite(services, disk, handle, backupFile, current.layout!, writes);
    const after = readDiskTable(handle.read, handle.geometry);
    return { data: { disk, repaired: current.damaged, warnings: after.warnings, backupFile }, text: `Rewrote the ${current.damaged.join(' and ')} of ${disk} from the good copy; the sectors it replaced are saved in ${backupFile}` };
  },

  backup(args: CommandArgs): CommandResult {
    const disk = diskArg(args);
    const file = positional(args, 1, 'the backup file to write');
    using handle = DiskHandle.open(disk, 'r', imageSectorSize(args));
    const table = readDiskTable(handle.read, handle.geometry);
    const bytes = captureTableBackup(disk, handle.geometry, handle.read, table.tableRanges);
    writeFileSync(file, bytes, { mode: 0o600, flag: args.options['force'] === true ? 'w' : 'wx' });
    return { data: { disk, file, table: table.kind, ranges: table.tableRanges, bytes: bytes.length }, text: `Saved the ${table.kind.toUpperCase()} table sectors of ${disk} to ${file}` };
  },

  async restoreTable(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const disk = diskArg(args);
    const file = positional(args, 1, 'the backup file');
    const { header, writes } = parseTableBackup(readFileSync(file), file);
    using handle = DiskHandle.open(disk, 'r+', header.geometry.sectorSize);
    if (handle.geometry.sectorSize !== header.geometry.sectorSize || handle.geometry.sectorCount !== header.geometry.sectorCount) {
      throw new ShadowError('SIZE_MISMATCH', `${file} was taken from a disk of ${header.geometry.sectorCount} sectors of ${header.geometry.sectorSize} bytes; ${disk} has ${handle.geometry.sectorCount} of ${handle.geometry.sectorSize}. Nothing was written`);
    }
    const info = await describePath(disk);
    const before = readDiskTableOrNone(handle);
    refuseBusy(info, before.layout?.partitions ?? []);
    refuseUnfinished(services, disk, true);
    if (args.options['dry-run'] === true) {
      return { data: { disk, file, dryRun: true, ranges: header.ranges }, text: `Dry run: ${file} is intact and fits ${disk}; restoring would write ${header.ranges.length} sector range(s)` };
    }
    if (args.options['yes'] !== true && !(await run.confirm?.(`Overwrite the partition table of ${disk} with ${file}?`))) {
      throw new ShadowError('ABORTED', 'Not restored: confirm with --yes (or answer yes on a terminal)');
    }
    const backupFile = saveTableBackup(services.backupDir, handle, { tableRanges: before.tableRanges ?? [] }, writes);
    const restored = readDiskTable(overlayReader(handle.read, handle.geometry.sectorSize, writes), handle.geometry).layout ?? before.layout;
    if (!restored) throw new ShadowError('TABLE_CORRUPT', `${file} holds no readable partition table and ${disk} has none either; nothing was written`);
    journaledTableWrite(services, disk, handle, backupFile, restored, writes);
    const after = readDiskTable(handle.read, handle.geometry);
    if (handle.isBlockDevice && after.layout) await syncKernelPartitions(disk, after.layout);
    return { data: { disk, file, table: after.kind, layout: after.layout && layoutToJson(after.layout), backupFile }, text: `Restored the table of ${disk} from ${file}; the table it replaced is saved in ${backupFile}` };
  },

  async check(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const disk = diskArg(args);
    const number = partitionNumber(args, 1);
    const { geometry, table, isBlockDevice } = services.inspect(disk, imageSectorSize(args));
    const partition = table.layout?.partitions.find((p) => p.number === number);
    if (!partition) throw new ShadowError('NOT_FOUND', `${disk} has no partition ${number}`);
    return withPartitionDevice(disk, isBlockDevice, geometry, partition, async (device) => {
      const type = await probeFilesystem(device, run.signal);
      if (!type) throw new ShadowError('NOT_FOUND', `Partition ${number} of ${disk} holds no filesystem that blkid recognises`);
      const result = await handlerForType(type).check(device, type, run);
      return { data: { disk, partition: number, type, ...result }, text: `${type} on partition ${number}: ${result.clean ? 'clean' : 'NOT clean'} (${result.tool}, exit ${result.exitCode})\n${result.output}` };
    });
  },

  async rescan(args: CommandArgs): Promise<CommandResult> {
    const disk = diskArg(args);
    const { table, isBlockDevice } = services.inspect(disk, imageSectorSize(args));
    if (!isBlockDevice) throw new ShadowError('INVALID_ARGUMENT', `${disk} is an image file; only block devices have partition nodes`);
    const changes = table.layout ? await syncKernelPartitions(disk, table.layout) : { added: [], removed: [] };
    return { data: { disk, ...changes }, text: `Kernel partitions of ${disk}: added ${changes.added.join(', ') || 'none'}, removed ${changes.removed.join(', ') || 'none'}` };
  },

  /** Finishes or rolls back an interrupted apply, from its journal, after checking the disk is still that disk. */
  async recover(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const disk = diskArg(args);
    const dryRun = args.options['dry-run'] === true;
    const journal = journalForDisk(services.journals, disk, disk, imageSectorSize(args));
    if (!journal) return { data: { disk, recovered: false }, text: `No interrupted apply on ${disk}` };
    if (journal.state === 'moving') return finishInterruptedMoves(services, journal, dryRun, args, run);
    using handle = DiskHandle.open(disk, dryRun ? 'r' : 'r+', journal.target.geometry.sectorSize);
    if (handle.geometry.sectorCount !== journal.target.geometry.sectorCount || handle.geometry.sectorSize !== journal.target.geometry.sectorSize) {
      throw new ShadowError('PLAN_STALE', `${disk} has ${handle.geometry.sectorCount} sectors of ${handle.geometry.sectorSize} bytes, but the interrupted apply was on a disk of ${journal.target.geometry.sectorCount} of ${journal.target.geometry.sectorSize}; is this the same disk? Nothing was written`);
    }
    const current = readDiskTableOrNone(handle);
    const rollBack = journal.state === 'started' || journal.state === 'backup-saved';
    const target = layoutFromJson(journal.target, `the apply journal of ${disk}`);
    if (!rollBack && JSON.stringify(current.layout && layoutToJson(current.layout)) !== JSON.stringify(journal.target)) {
      throw new ShadowError('PLAN_STALE', `${disk} no longer holds the table the interrupted apply wrote; it was changed since. Nothing was written; inspect it with 'shadowdisk part show ${disk}'`);
    }
    const steps = journaledDataSteps(journal, target);
    refuseBusy(await describePath(disk), rollBack ? (current.layout?.partitions ?? []) : steps.filter((_, i) => !journal.dataSteps[i]!.done).map((s) => s.partition));
    const action = rollBack ? 'rolled-back' : 'rolled-forward';
    const what = rollBack ? `put back the table sectors saved in ${journal.backupFile}` : `finish the ${steps.length} data step(s) left`;
    if (dryRun) return { data: { disk, dryRun: true, action, state: journal.state }, text: `Dry run: would ${what} on ${disk}` };
    if (args.options['yes'] !== true && !(await run.confirm?.(`An apply on ${disk} was interrupted at '${journal.state}'. ${what[0]!.toUpperCase()}${what.slice(1)}?`))) {
      throw new ShadowError('ABORTED', 'Not recovered: confirm with --yes (or answer yes on a terminal)');
    }
    if (rollBack) {
      const { header, writes } = parseTableBackup(readFileSync(journal.backupFile), journal.backupFile);
      if (header.geometry.sectorCount !== handle.geometry.sectorCount || header.geometry.sectorSize !== handle.geometry.sectorSize) {
        throw new ShadowError('SIZE_MISMATCH', `The table backup ${journal.backupFile} is of another disk's geometry; nothing was written`);
      }
      handle.write(writes);
      if (handle.isBlockDevice) {
        const restored = readDiskTable(handle.read, handle.geometry);
        if (restored.layout) await syncKernelPartitions(disk, restored.layout);
      }
      services.journals.remove(disk);
      return { data: { disk, recovered: true, action, backupFile: journal.backupFile }, text: `Rolled back the interrupted apply on ${disk} from ${journal.backupFile}` };
    }
    if (handle.isBlockDevice) await syncKernelPartitions(disk, target);
    await runDataSteps(services, { disk, isBlockDevice: handle.isBlockDevice, geometry: target.geometry, target, steps, journal }, run, 0);
    services.journals.remove(disk);
    services.plans.clear(disk);
    return { data: { disk, recovered: true, action }, text: `Finished the interrupted apply on ${disk}` };
  },
});
