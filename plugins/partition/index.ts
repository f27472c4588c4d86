// The partition plugin: disks, filesystem handlers, partition tables and the pending-operation queue.
import type { PluginContext } from '../../sdk/index.js';
import { disksCommand } from './disks-command.js';
import { filesystemHandler } from './fs/filesystem-handler.js';
import { FILESYSTEM_TOOLS } from './fs/filesystem-tools.js';
import { applyCommand } from './part/apply-command.js';
import { PartServices } from './part/part-services.js';
import { queueCommands } from './part/queue-commands.js';
import { tableCommands } from './part/table-commands.js';
import { recoverAllCommand, warnAboutUnfinished } from './part/recover-all-command.js';

const FS_IDS: Readonly<Record<string, string>> = { ext4: 'ext', xfs: 'xfs', btrfs: 'btrfs', vfat: 'vfat', ntfs: 'ntfs', exfat: 'exfat', swap: 'swap' };

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.partition.disks', disksCommand);
  for (const tools of FILESYSTEM_TOOLS) {
    const id = FS_IDS[tools.types.at(-1)!]!;
    ctx.register('filesystems', `shadowdisk.partition.${id}`, filesystemHandler(tools));
  }
  const services = new PartServices(ctx);
  const queue = queueCommands(services);
  const table = tableCommands(services);
  const handlers = {
    show: table.show, 'create-table': queue.createTable, create: queue.create, delete: queue.delete, move: queue.move, resize: queue.resize, convert: queue.convert, copy: queue.copy, set: queue.set,
    format: queue.format, label: queue.label, check: table.check, plan: queue.show, 'plan-show': queue.show, 'plan-clear': queue.clear,
    undo: queue.undo, redo: queue.redo, apply: (args, run) => applyCommand(services, args, run), repair: table.repair,
    backup: table.backup, 'restore-table': table.restoreTable, recover: table.recover, rescan: table.rescan,
  } satisfies Record<string, Parameters<PluginContext['commands']['registerCommand']>[1]>;
  for (const [key, handler] of Object.entries(handlers)) ctx.commands.registerCommand(`shadowdisk.partition.part-${key}`, handler);
  ctx.commands.registerCommand('shadowdisk.partition.recover', (args, run) => recoverAllCommand(services, table.recover, args, run));
  warnAboutUnfinished(services);
}
