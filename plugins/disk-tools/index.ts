// The disk-tools plugin: wipe, MBR boot code and surface test, working on disks through the partition plugin's view of them.
import type { PluginContext } from '../../sdk/index.js';
import { bootCodeCommands } from './boot-code-commands.js';
import { pvResizeCommand } from './pv-resize-command.js';
import { surfaceMapsCommand } from './surface-maps-command.js';
import { surfaceTestCommand } from './surface-test-command.js';
import { volumesCommand } from './volumes-command.js';
import { wipeCommand } from './wipe-command.js';
import { wipeFreeCommand } from './wipe-free-command.js';

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.disk-tools.wipe', wipeCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.disk-tools.wipe-free', wipeFreeCommand);
  const bootCode = bootCodeCommands(ctx);
  ctx.commands.registerCommand('shadowdisk.disk-tools.boot-code-show', bootCode.show);
  ctx.commands.registerCommand('shadowdisk.disk-tools.boot-code-install', bootCode.install);
  ctx.commands.registerCommand('shadowdisk.disk-tools.boot-code-restore', bootCode.restore);
  ctx.commands.registerCommand('shadowdisk.disk-tools.surface-test', surfaceTestCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.disk-tools.surface-maps', surfaceMapsCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.disk-tools.volumes', volumesCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.disk-tools.pv-resize', pvResizeCommand(ctx));
}
