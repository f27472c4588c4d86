// `disk surface-maps [disk]`: the bad-sector maps surface tests saved, newest first, with the unreadable sectors counted
// per partition.
import { join } from 'node:path';
import type { CommandArgs, CommandResult, PluginContext } from '../../sdk/index.js';
import { formatBytes, renderTable } from '../../sdk/index.js';
import { listStateFiles, readStateFile } from '../../sdk/node.js';

interface SavedMap {
  device: string;
  disk: string;
  startedAt: string;
  rangeBytes: [number, number];
  badSectors: number;
  badRanges: { firstLba: number; count: number; partition: string | null }[];
}

export const surfaceMapsCommand = (ctx: PluginContext) => (args: CommandArgs): CommandResult => {
  const disk = args.positionals[0];
  const maps = listStateFiles(join(ctx.storagePath, 'surface'))
    .map((path) => ({ path, map: JSON.parse(readStateFile(path) ?? '{}') as SavedMap }))
    .filter(({ map }) => map.disk !== undefined && (disk === undefined || map.disk === disk || map.device === disk))
    .sort((a, b) => b.map.startedAt.localeCompare(a.map.startedAt))
    .map(({ path, map }) => {
      const byPartition: Record<string, number> = {};
      for (const r of map.badRanges) byPartition[r.partition ?? 'outside partitions'] = (byPartition[r.partition ?? 'outside partitions'] ?? 0) + r.count;
      return { path, device: map.device, disk: map.disk, startedAt: map.startedAt, rangeBytes: map.rangeBytes, badSectors: map.badSectors, badSectorsByPartition: byPartition };
    });
  return {
    data: { maps },
    text: maps.length === 0 ? `No saved surface maps${disk ? ` for ${disk}` : ''}` : renderTable(['TESTED', 'DEVICE', 'RANGE', 'BAD SECTORS', 'WHERE'], maps.map((m) => [
      m.startedAt, m.device, `${formatBytes(m.rangeBytes[0])}-${formatBytes(m.rangeBytes[1])}`, m.badSectors,
      Object.entries(m.badSectorsByPartition).map(([where, count]) => `${where}: ${count}`).join(', ') || null,
    ])),
  };
};
