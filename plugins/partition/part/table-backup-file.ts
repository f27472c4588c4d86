// Saving the sectors a write is about to replace (and the current table) before any table write: apply, repair and
// restore-table all go through here, so every one of them can be undone with `part restore-table`.
import { closeSync, fsyncSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DiskHandle } from '../io/disk-handle.js';
import { captureTableBackup } from '../ops/table-backup.js';
import { rangesOf, type DiskTable } from '../table/partition-table.js';
import type { SectorWrite } from '../table/sector-io.js';

/** Writes the backup durably (file and folder fsynced) and returns its path. */
export function saveTableBackup(dir: string, handle: DiskHandle, current: Pick<DiskTable, 'tableRanges'>, writes: readonly SectorWrite[]): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${handle.path.replace(/\W+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}.bin`);
  const ranges = mergeRanges([...current.tableRanges, ...rangesOf(writes, handle.geometry)]);
  writeFileSync(file, captureTableBackup(handle.path, handle.geometry, handle.read, ranges), { mode: 0o600, flush: true });
  fsyncDirectory(dir);
  return file;
}

function fsyncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function mergeRanges(ranges: readonly { lba: number; count: number }[]): { lba: number; count: number }[] {
  const sorted = [...ranges].sort((a, b) => a.lba - b.lba);
  const out: { lba: number; count: number }[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.lba <= last.lba + last.count) last.count = Math.max(last.count, r.lba + r.count - last.lba);
    else out.push({ ...r });
  }
  return out;
}
