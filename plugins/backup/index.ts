// The backup plugin: images of disks and partitions (docs/image-format.md).
import { tuneAllocatorForBulkData } from '../../native/index.js';
import type { PluginContext } from '../../sdk/index.js';
import { browseCommands } from './browse-commands.js';
import { imageCommands } from './image-commands.js';
import { diskCopyCommand } from './disk-copy-command.js';
import { imageListCommand } from './image-list-command.js';
import { localRepositoryKind, repositoryCommands, s3RepositoryKind } from './repository/index.js';

export function activate(ctx: PluginContext): void {
  // Chunks and read windows are multi-MiB buffers made and dropped hundreds of times a second: keep them on the heap.
  tuneAllocatorForBulkData();
  const commands = imageCommands(ctx);
  ctx.commands.registerCommand('shadowdisk.backup.image-backup', commands.backup);
  ctx.commands.registerCommand('shadowdisk.backup.image-verify', commands.verify);
  ctx.commands.registerCommand('shadowdisk.backup.image-info', commands.info);
  ctx.commands.registerCommand('shadowdisk.backup.image-restore', commands.restore);
  ctx.commands.registerCommand('shadowdisk.backup.disk-copy', diskCopyCommand(ctx));
  ctx.commands.registerCommand('shadowdisk.backup.image-list', imageListCommand);
  const browse = browseCommands(ctx);
  ctx.commands.registerCommand('shadowdisk.backup.image-browse', browse.browse);
  ctx.commands.registerCommand('shadowdisk.backup.image-ls', browse.ls);
  ctx.commands.registerCommand('shadowdisk.backup.image-cat', browse.cat);
  ctx.commands.registerCommand('shadowdisk.backup.image-extract', browse.extract);
  const repo = repositoryCommands(ctx);
  ctx.commands.registerCommand('shadowdisk.backup.repo-init', repo.init);
  ctx.commands.registerCommand('shadowdisk.backup.repo-list', repo.list);
  ctx.commands.registerCommand('shadowdisk.backup.repo-stats', repo.stats);
  ctx.commands.registerCommand('shadowdisk.backup.repo-check', repo.check);
  ctx.commands.registerCommand('shadowdisk.backup.repo-prune', repo.prune);
  ctx.commands.registerCommand('shadowdisk.backup.repo-locks', repo.locks);
  ctx.commands.registerCommand('shadowdisk.backup.repo-forget', repo.forget);
  // Repository kinds are contributions like any third party's: opening a URL asks the registry who handles its scheme.
  ctx.register('repositories', 'shadowdisk.backup.local', localRepositoryKind);
  ctx.register('repositories', 'shadowdisk.backup.s3', s3RepositoryKind);
  // The image format is implemented by this plugin's own engine; other plugins find it through the registry.
  ctx.register('imageFormats', 'shadowdisk.backup.sdimg', { extensions: ['.sdimg'], documentation: 'docs/image-format.md' });
}
