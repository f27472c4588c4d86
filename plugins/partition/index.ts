// The partition plugin: disks, filesystem handlers, and (landing now) partition tables and the operation queue.
import type { PluginContext } from '../../sdk/index.js';
import { disksCommand } from './disks-command.js';
import { filesystemHandler } from './fs/filesystem-handler.js';
import { FILESYSTEM_TOOLS } from './fs/filesystem-tools.js';

const FS_IDS: Readonly<Record<string, string>> = { ext4: 'ext', xfs: 'xfs', btrfs: 'btrfs', vfat: 'vfat', ntfs: 'ntfs', exfat: 'exfat', swap: 'swap' };

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('shadowdisk.partition.disks', disksCommand);
  for (const tools of FILESYSTEM_TOOLS) {
    const id = FS_IDS[tools.types.at(-1)!]!;
    ctx.register('filesystems', `shadowdisk.partition.${id}`, filesystemHandler(tools));
  }
}
