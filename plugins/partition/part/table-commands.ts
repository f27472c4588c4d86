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
import { refuseBusy } from './apply-checks.js';
import { runDataSteps } from './data-steps.js';
import { syncKernelPartitions } from './kernel-sync.js';
import type { PartServices } from './part-services.js';
import { probeFilesystem, withPartitionDevice } from './partition-device.js';
import { layoutTable } from './plan-view.js';
import { imageSectorSize, partitionNumber, positional } from './queue-commands.js';

export const tableCommands = (services: PartServices) => ({
  show(args: CommandArgs): CommandResult {
    const disk = positional(args, 0, 'the disk');
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
    const disk = positional(args, 0, 'the disk');
    using handle = DiskHandle.open(disk, args.options['dry-run'] === true ? 'r' : 'r+', imageSectorSize(args));
    const current = readDiskTable(handle.read, handle.geometry);
    const writes = repairWrites(current, handle.geometry);
    if (writes.length === 0) return { data: { disk, repaired: [] }, text: `Both GPT copies of ${disk} are good; nothing to repair` };
    if (args.options['dry-run'] === true) return { data: { disk, dryRun: true, wouldRepair: current.damaged }, text: `Dry run: would rewrite the damaged ${current.damaged.join(' and ')} of ${disk}` };
    if (args.options['yes'] !== true && !(await run.confirm?.(`Rewrite the damaged ${current.damaged.join(' and ')} of ${disk} from the good copy?`))) {
      throw new ShadowError('INVALID_ARGUMENT', 'Not repaired: confirm with --yes (or answer yes on a terminal)');
    }
    handle.write(writes);
    const after = readDiskTable(handle.read, handle.geometry);
    return { data: { disk, repaired: current.damaged, warnings: after.warnings }, text: `Rewrote the ${current.damaged.join(' and ')} of ${disk} from the good copy` };
  },

  backup(args: CommandArgs): CommandResult {
    const disk = positional(args, 0, 'the disk');
    const file = positional(args, 1, 'the backup file to write');
    using handle = DiskHandle.open(disk, 'r', imageSectorSize(args));
    const table = readDiskTable(handle.read, handle.geometry);
    const bytes = captureTableBackup(disk, handle.geometry, handle.read, table.tableRanges);
    writeFileSync(file, bytes, { mode: 0o600, flag: args.options['force'] === true ? 'w' : 'wx' });
    return { data: { disk, file, table: table.kind, ranges: table.tableRanges, bytes: bytes.length }, text: `Saved the ${table.kind.toUpperCase()} table sectors of ${disk} to ${file}` };
  },

  async restoreTable(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const disk = positional(args, 0, 'the disk');
    const file = positional(args, 1, 'the backup file');
    const { header, writes } = parseTableBackup(readFileSync(file), file);
    using handle = DiskHandle.open(disk, 'r+', header.geometry.sectorSize);
    if (handle.geometry.sectorSize !== header.geometry.sectorSize || handle.geometry.sectorCount !== header.geometry.sectorCount) {
      throw new ShadowError('SIZE_MISMATCH', `${file} was taken from a disk of ${header.geometry.sectorCount} sectors of ${header.geometry.sectorSize} bytes; ${disk} has ${handle.geometry.sectorCount} of ${handle.geometry.sectorSize}. Nothing was written`);
    }
    const info = await describePath(disk);
    const before = readDiskTable(handle.read, handle.geometry);
    refuseBusy(info, before.layout?.partitions ?? []);
    if (args.options['yes'] !== true && !(await run.confirm?.(`Overwrite the partition table of ${disk} with ${file}?`))) {
      throw new ShadowError('INVALID_ARGUMENT', 'Not restored: confirm with --yes (or answer yes on a terminal)');
    }
    handle.write(writes);
    const after = readDiskTable(handle.read, handle.geometry);
    if (handle.isBlockDevice && after.layout) await syncKernelPartitions(disk, after.layout);
    return { data: { disk, file, table: after.kind, layout: after.layout && layoutToJson(after.layout) }, text: `Restored the table of ${disk} from ${file}` };
  },

  async check(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const disk = positional(args, 0, 'the disk');
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

  /** Finishes or rolls back an interrupted apply, from its journal. */
  async recover(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const disk = positional(args, 0, 'the disk');
    const journal = services.journals.load(disk);
    if (!journal) return { data: { disk, recovered: false }, text: `No interrupted apply on ${disk}` };
    using handle = DiskHandle.open(disk, 'r+', journal.target.geometry.sectorSize);
    if (journal.state === 'started' || journal.state === 'backup-saved') {
      // The table may be half written: put back every sector from before the apply.
      const { writes } = parseTableBackup(readFileSync(journal.backupFile), journal.backupFile);
      handle.write(writes);
      services.journals.remove(disk);
      return { data: { disk, recovered: true, action: 'rolled-back', backupFile: journal.backupFile }, text: `Rolled back the interrupted apply on ${disk} from ${journal.backupFile}` };
    }
    const target = layoutFromJson(journal.target, 'the journal');
    if (handle.isBlockDevice) await syncKernelPartitions(disk, target);
    const { dataSteps: steps } = journal;
    await runDataSteps(services, {
      disk, isBlockDevice: handle.isBlockDevice, geometry: target.geometry, target,
      steps: steps.map((s) => ({ operation: s.operation as never, partition: target.partitions.find((p) => p.number === (s.operation as { number: number }).number)! })),
      journal,
    }, run, 0);
    services.journals.remove(disk);
    services.plans.clear(disk);
    return { data: { disk, recovered: true, action: 'rolled-forward' }, text: `Finished the interrupted apply on ${disk}` };
  },
});
