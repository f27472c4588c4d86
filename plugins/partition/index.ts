// The partition plugin: disks now; partition tables and the operation queue land here next.
import type { PluginContext } from '../../sdk/index.js';
import { disksCommand } from './disks-command.js';

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.partition.disks', disksCommand);
}
