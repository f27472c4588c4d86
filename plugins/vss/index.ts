// The vss plugin: the shadow-copy coordinator (VSS-style phases as tapable hooks, thaw watchdog), the reflink, btrfs
// and hotcore snapshot providers, snapshot sets in the state folder, and the `shadow` commands (issue 7).
import type { PluginContext } from '../../sdk/index.js';
import { btrfsProvider } from './providers/btrfs-provider.js';
import { hotcoreProvider } from './providers/hotcore-provider.js';
import { reflinkProvider } from './providers/reflink-provider.js';
import { shadowChangedBlocks } from './changed-blocks-command.js';
import { shadowBackup } from './shadow-backup-command.js';
import { shadowCommands } from './shadow-commands.js';

export function activate(ctx: PluginContext): void {
  ctx.register('snapshotProviders', 'shadowdisk.vss.reflink', reflinkProvider);
  ctx.register('snapshotProviders', 'shadowdisk.vss.btrfs', btrfsProvider);
  ctx.register('snapshotProviders', 'shadowdisk.vss.hotcore', hotcoreProvider(ctx.stateDir));
  const shadow = shadowCommands(ctx);
  ctx.commands.registerCommand('shadowdisk.vss.create', shadow.create);
  ctx.commands.registerCommand('shadowdisk.vss.list', shadow.list);
  ctx.commands.registerCommand('shadowdisk.vss.mount', shadow.mount);
  ctx.commands.registerCommand('shadowdisk.vss.unmount', shadow.unmount);
  ctx.commands.registerCommand('shadowdisk.vss.delete', shadow.remove);
  ctx.commands.registerCommand('shadowdisk.vss.backup', (args, run) => shadowBackup(ctx, shadow.sets, args, run));
  ctx.commands.registerCommand('shadowdisk.vss.changed-blocks', (args) => shadowChangedBlocks(shadow.sets, args));
}

export { ShadowCoordinator, type CoordinatorHooks, type ShadowSetRun } from './coordinator.js';
export type { ShadowSetRecord } from './shadow-sets.js';
