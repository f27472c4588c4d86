// The plugin manager: `shadowdisk plugin install|update|list|enable|disable|uninstall` over the installed list.
import type { PluginContext } from '../../sdk/index.js';
import { installCommand, listCommand, setEnabledCommand, uninstallCommand } from './plugin-commands.js';

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.plugin-manager.install', (args, run) => installCommand(ctx, args, run, 'install'));
  ctx.commands.registerCommand('shadowdisk.plugin-manager.update', (args, run) => installCommand(ctx, args, run, 'update'));
  ctx.commands.registerCommand('shadowdisk.plugin-manager.list', () => listCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.plugin-manager.enable', (args) => setEnabledCommand(ctx, args, true));
  ctx.commands.registerCommand('shadowdisk.plugin-manager.disable', (args) => setEnabledCommand(ctx, args, false));
  ctx.commands.registerCommand('shadowdisk.plugin-manager.uninstall', (args) => uninstallCommand(ctx, args));
}
