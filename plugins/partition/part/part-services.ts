// What every `part` command shares: where plans, journals and table backups live, and how a disk is opened and read.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { PluginContext } from '../../../sdk/index.js';
import { JournalStore } from '../ops/apply-journal.js';
import { PlanStore } from '../ops/plan-store.js';
import { DiskHandle } from '../io/disk-handle.js';
import { readDiskTable, type DiskTable } from '../table/partition-table.js';
import type { SectorReader } from '../table/sector-io.js';
import type { DiskGeometry } from '../table/layout.js';

export class PartServices {
  readonly plans: PlanStore;
  readonly journals: JournalStore;
  readonly backupDir: string;

  constructor(readonly ctx: PluginContext) {
    this.plans = new PlanStore(join(ctx.storagePath, 'plans'));
    this.journals = new JournalStore(join(ctx.storagePath, 'journal'));
    this.backupDir = join(ctx.storagePath, 'table-backups');
  }

  /** Opens a disk read-only and reads its table. */
  inspect(disk: string, imageSectorSize?: number): { geometry: DiskGeometry; table: DiskTable; fingerprint: string; isBlockDevice: boolean } {
    using handle = DiskHandle.open(disk, 'r', imageSectorSize);
    const table = readDiskTable(handle.read, handle.geometry);
    return { geometry: handle.geometry, table, fingerprint: fingerprintOf(handle.read, handle.geometry, table), isBlockDevice: handle.isBlockDevice };
  }
}

/** SHA-256 over the sectors that hold the table, with the geometry: what apply compares to the plan's base. */
export function fingerprintOf(read: SectorReader, geometry: DiskGeometry, table: DiskTable): string {
  const hash = createHash('sha256').update(JSON.stringify({ geometry, kind: table.kind, ranges: table.tableRanges }));
  for (const range of table.tableRanges) hash.update(read(range.lba, range.count));
  return hash.digest('hex');
}
