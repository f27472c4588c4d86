// The workbench plugin: the command palette (`commands`), the plugin list (`plugins`) and the demo.
import type { PluginContext } from '../../sdk/index.js';
import { demoCommand } from './demo-command.js';
import { commandsCommand, pluginsCommand } from './palette-commands.js';

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.workbench.commands', () => commandsCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.workbench.plugins', () => pluginsCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.workbench.demo', (args, run) => demoCommand(ctx, args, run));
}
