// The apply journal: written (and fsynced) before each step of an apply, so an interrupted apply is found at the next
// start and rolled back (table not yet written) or finished (table written, data steps left).
import { rmSync } from 'node:fs';
import { listStateFiles, readStateFile, stateFileFor, writeStateFileDurably } from '../../../sdk/node.js';
import { ShadowError } from '../../../sdk/index.js';
import type { LayoutJson } from './layout-json.js';
import type { Operation } from './operation.js';
import type { MoveProgress } from '../move/block-mover.js';

/**
 * In order; each state is durable before the work after it starts. 'moving': partitions' data is being moved (before
 * the table is written); from there recovery rolls forward.
 */
export type JournalState = 'started' | 'backup-saved' | 'moving' | 'table-written' | 'kernel-updated' | 'done';

export interface ApplyJournal {
  version: 1;
  disk: string;
  startedAt: string;
  state: JournalState;
  backupFile: string;
  target: LayoutJson;
  /** The table writes are all-or-nothing at the journal's granularity: rolled back from backupFile before 'table-written'. */
  dataSteps: { operation: Operation; done: boolean }[];
  /** Partition moves, in plan order, each with its progress (plugins/partition/move). */
  moves?: MoveProgress[];
  /** The target table's sectors (table-backup format), written after the moves: recovery writes these bytes as they are. */
  targetTableFile?: string;
  /** Where a move step whose destination overlaps its source saves that source first. */
  moveSaveFile?: string;
}

export class JournalStore {
  constructor(readonly dir: string) {}

  private pathOf(disk: string): string {
    return stateFileFor(this.dir, disk);
  }

  /** Durably replaces the journal of a disk, so the state it names is on disk before the work after it starts. */
  save(journal: ApplyJournal): void {
    writeStateFileDurably(this.pathOf(journal.disk), journal);
  }

  load(disk: string): ApplyJournal | undefined {
    return this.read(this.pathOf(disk));
  }

  /** Every unfinished journal: applies that were interrupted. */
  pending(): ApplyJournal[] {
    return listStateFiles(this.dir).map((path) => this.read(path)).filter((j): j is ApplyJournal => j !== undefined && j.state !== 'done');
  }

  remove(disk: string): void {
    rmSync(this.pathOf(disk), { force: true });
  }

  private read(path: string): ApplyJournal | undefined {
    const text = readStateFile(path);
    if (text === undefined) return undefined;
    try {
      const journal = JSON.parse(text) as ApplyJournal;
      if (journal.version !== 1) throw new Error(`version ${String(journal.version)}`);
      return journal;
    } catch (error) {
      throw new ShadowError('RECOVERY_NEEDED', `The apply journal ${path} is unreadable (${(error as Error).message}); the table backup next to it can still be restored with 'shadowdisk part restore-table'`);
    }
  }
}
