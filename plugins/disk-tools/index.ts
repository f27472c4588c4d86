// The disk-tools plugin: wipe, MBR boot code and surface test, working on disks through the partition plugin's view of them.
import type { PluginContext } from '../../sdk/index.js';
import { wipeCommand } from './wipe-command.js';

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.disk-tools.wipe', wipeCommand(ctx));
}
