// The hot-processing plugin: volumes attached behind the hotcore engine, copy-before-write snapshots and changed-block
// tracking (issue 6).
import type { PluginContext } from '../../sdk/index.js';
import { takeChangedBlocks } from './changed-blocks-command.js';
import { hotBackup } from './hot-backup-command.js';
import { hotCommands } from './hot-commands.js';
import { createSnapshot, deleteSnapshot, listSnapshots } from './snapshot-commands.js';

export function activate(ctx: PluginContext): void {
  const hot = hotCommands(ctx);
  ctx.commands.registerCommand('shadowdisk.hot-processing.attach', hot.attach);
  ctx.commands.registerCommand('shadowdisk.hot-processing.detach', hot.detach);
  ctx.commands.registerCommand('shadowdisk.hot-processing.status', hot.status);
  ctx.commands.registerCommand('shadowdisk.hot-processing.snapshot-create', (args) => createSnapshot(hot.attachments, args));
  ctx.commands.registerCommand('shadowdisk.hot-processing.snapshot-list', (args) => listSnapshots(hot.attachments, args));
  ctx.commands.registerCommand('shadowdisk.hot-processing.snapshot-delete', (args) => deleteSnapshot(hot.attachments, args));
  ctx.commands.registerCommand('shadowdisk.hot-processing.changed-blocks', (args) => takeChangedBlocks(hot.attachments, args));
  ctx.commands.registerCommand('shadowdisk.hot-processing.backup', (args, run) => hotBackup(ctx, hot.attachments, args, run));
}

export { EngineClient, type EngineStatus, type EngineSnapshotStatus, type ChangedBlockMap } from './engine-client.js';
export { Attachments, type Attachment } from './attachments.js';
