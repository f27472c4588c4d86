// `shadowdisk disks [path...]`: the disk inventory as JSON and as an lsblk-like table.
import type { CommandArgs, CommandResult } from '../../sdk/index.js';
import { formatBytes, renderTable } from '../../sdk/index.js';
import { describePath, listBlockDevices, type DiskInfo } from './block-devices.js';

export async function disksCommand(args: CommandArgs): Promise<CommandResult> {
  const disks = args.positionals.length > 0 ? await Promise.all(args.positionals.map(describePath)) : await listBlockDevices();
  return { data: { disks }, text: renderDisks(disks) };
}

export function renderDisks(disks: readonly DiskInfo[]): string {
  if (disks.length === 0) return 'No disks found';
  const rows: unknown[][] = [];
  for (const disk of disks) {
    rows.push([
      disk.path, formatBytes(disk.sizeBytes), `${disk.logicalSectorSize}/${disk.physicalSectorSize}`,
      disk.model ?? (disk.loop ? `loop: ${disk.loop.backingFile}` : disk.kind === 'image-file' ? 'image file' : null),
      disk.mountpoints.join(',') || null, disk.busy ? 'busy' : 'free',
    ]);
    for (const part of disk.partitions) {
      rows.push([`  ${part.path}`, formatBytes(part.sizeBytes), '', `partition ${part.number} at ${part.startBytes}`, part.mountpoints.join(',') || (part.swap ? '[swap]' : null), '']);
    }
  }
  return renderTable(['DEVICE', 'SIZE', 'SECTOR', 'MODEL', 'MOUNTED', 'STATE'], rows);
}
