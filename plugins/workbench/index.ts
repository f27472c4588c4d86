// The workbench plugin: the command palette (`commands`), the plugin list (`plugins`), the web UI server and the demo.
import type { PluginContext } from '../../sdk/index.js';
import { demoCommand } from './demo-command.js';
import { fsUsageCommand } from './fs-usage-command.js';
import { scriptSaveCommand } from './script-save-command.js';
import { commandsCommand, pluginsCommand } from './palette-commands.js';
import { serveCommand, serveUrlCommand } from './serve-command.js';

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.workbench.commands', () => commandsCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.workbench.plugins', () => pluginsCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.workbench.demo', (args, run) => demoCommand(ctx, args, run));
  ctx.commands.registerCommand('shadowdisk.workbench.serve', (args, run) => serveCommand(ctx, args, run));
  ctx.commands.registerCommand('shadowdisk.workbench.serve-url', () => serveUrlCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.workbench.fs-usage', (args) => fsUsageCommand(args));
  ctx.commands.registerCommand('shadowdisk.workbench.script-save', (args) => scriptSaveCommand(args));
}
