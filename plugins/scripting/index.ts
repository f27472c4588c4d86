// The scripting plugin: `shadowdisk script run FILE.js [args...] [--dry-run]`.
import type { PluginContext } from '../../sdk/index.js';
import { runScript } from './script-runner.js';

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.scripting.run', (args, run) => runScript(ctx, args, run));
}
