// Moves inside an apply: run under the apply journal (state 'moving', one record per step), then the target table
// is written from bytes saved before the first move, so an interrupted apply can always be finished the same way.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunContext } from '../../../sdk/index.js';
import { stateFileFor } from '../../../sdk/node.js';
import type { DiskHandle } from '../io/disk-handle.js';
import type { ApplyJournal } from '../ops/apply-journal.js';
import type { JournalStore } from '../ops/apply-journal.js';
import { captureTableBackup, parseTableBackup } from '../ops/table-backup.js';
import { rangesOf } from '../table/partition-table.js';
import { overlayReader, type SectorWrite } from '../table/sector-io.js';
import { runMove } from './block-mover.js';
import { openDiskIo } from './disk-io.js';
import { ShadowError } from '../../../sdk/index.js';

/** Where a move's overlapping step saves its source: next to the journal, in the state directory. */
export function saveFileOf(journals: JournalStore, disk: string): string {
  return stateFileFor(journals.dir, disk).replace(/\.json$/, '.move-save');
}

/** Saves the sectors the target table consists of (file and folder fsynced) and returns the file. */
export function saveTargetTable(dir: string, handle: DiskHandle, writes: readonly SectorWrite[]): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${handle.path.replace(/\W+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}-target.bin`);
  const reader = overlayReader(handle.read, handle.geometry.sectorSize, writes);
  writeFileSync(file, captureTableBackup(handle.path, handle.geometry, reader, rangesOf(writes, handle.geometry)), { mode: 0o600, flush: true });
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return file;
}

/** The target table's writes, as saved before the moves. */
export function targetTableWrites(journal: ApplyJournal): SectorWrite[] {
  if (!journal.targetTableFile) throw new ShadowError('IMAGE_CORRUPT', `The apply journal of ${journal.disk} has moves but names no target table file`);
  return parseTableBackup(readFileSync(journal.targetTableFile), journal.targetTableFile).writes;
}

/** Runs every unfinished move of the journal in order, keeping the journal durable at each step; returns it updated. */
export async function runJournaledMoves(journals: JournalStore, start: ApplyJournal, isBlockDevice: boolean, run: RunContext): Promise<ApplyJournal> {
  const saveFile = start.moveSaveFile ?? saveFileOf(journals, start.disk);
  const journal: ApplyJournal = { ...structuredClone(start), state: 'moving', moveSaveFile: saveFile };
  journals.save(journal);
  {
    await using io = await openDiskIo(journal.disk, isBlockDevice);
    for (const [index, move] of (journal.moves ?? []).entries()) {
      if (move.finished) continue;
      await using srcIo = move.srcDisk === undefined ? undefined : await openDiskIo(move.srcDisk, statSync(move.srcDisk).isBlockDevice());
      journal.moves![index] = await runMove(move, {
        io, saveFile, run, ...(srcIo ? { srcIo } : {}),
        persist: (progress) => {
          journal.moves![index] = progress;
          journals.save(journal);
        },
      });
    }
  }
  rmSync(saveFile, { force: true });
  return journal;
}
