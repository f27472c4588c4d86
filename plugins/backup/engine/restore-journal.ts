// The restore journal: written (and fsynced) before `image restore` or `disk copy` writes a byte, kept up to date with
// how far it got, and removed when the target is complete. A journal left behind marks its target as holding an
// incomplete restore; restore is idempotent, so re-running the same command finishes it.
import { rmSync } from 'node:fs';
import type { RunContext } from '../../../sdk/index.js';
import { formatBytes, ShadowError } from '../../../sdk/index.js';
import { listStateFiles, readStateFile, stateFileFor, writeStateFileDurably } from '../../../sdk/node.js';
import type { DeviceIdentity } from './device-identity.js';

export type RestoreOperation = 'image restore' | 'disk copy';

export interface RestoreJournal {
  version: 1;
  operation: RestoreOperation;
  /** Canonical path of the target (the journal's key). */
  target: string;
  /** What the target was when the restore started, to tell a reused device name from the same device. */
  targetIdentity: DeviceIdentity;
  /** The image (newest link of a chain), the disk copied from, or the snapshot id (with `repository`). */
  source: string;
  /** Repository restores: the repository's URL. */
  repository?: string;
  /** Image restores: every image of the chain, newest first. */
  chain?: string[];
  encrypted?: boolean;
  startedAt: string;
  updatedAt: string;
  /** The phase and bytes last reported: the restore got at least this far. */
  phase: string;
  doneBytes: number;
  totalBytes: number;
  /** Set when the process saw the failure (an error or a cancel); absent when it died outright. */
  interruptedBy?: { code: string; message: string };
}

/** How often a running restore brings its journal's progress up to date. */
const CHECKPOINT_MS = 1000;

export class RestoreJournalStore {
  constructor(readonly dir: string) {}

  save(journal: RestoreJournal): void {
    writeStateFileDurably(stateFileFor(this.dir, journal.target), journal);
  }

  load(target: string): RestoreJournal | undefined {
    return this.read(stateFileFor(this.dir, target));
  }

  /**
   * Every journal left behind: restores and copies that did not finish. An unreadable one is handed to `onUnreadable`
   * (it throws RECOVERY_NEEDED without one), so one damaged record does not stop every other restore.
   */
  pending(onUnreadable?: (error: ShadowError) => void): RestoreJournal[] {
    const out: RestoreJournal[] = [];
    for (const path of listStateFiles(this.dir)) {
      try {
        const journal = this.read(path);
        if (journal) out.push(journal);
      } catch (error) {
        if (!onUnreadable || !(error instanceof ShadowError)) throw error;
        onUnreadable(error);
      }
    }
    return out;
  }

  remove(target: string): boolean {
    const path = stateFileFor(this.dir, target);
    const existed = readStateFile(path) !== undefined;
    rmSync(path, { force: true });
    return existed;
  }

  /**
   * Runs `work` under a journal: saved before it starts, its progress checkpointed at most once a second, the reason
   * recorded if it fails, and removed only when it succeeds.
   */
  async track<T>(start: Omit<RestoreJournal, 'version' | 'startedAt' | 'updatedAt' | 'phase' | 'doneBytes' | 'totalBytes'>, run: RunContext, work: (run: RunContext) => Promise<T>): Promise<T> {
    const now = () => new Date().toISOString();
    let journal: RestoreJournal = { version: 1, ...start, startedAt: now(), updatedAt: now(), phase: 'starting', doneBytes: 0, totalBytes: 0 };
    let savedAt = Date.now();
    const save = (patch: Partial<RestoreJournal>) => {
      journal = { ...journal, ...patch, updatedAt: now() };
      this.save(journal);
      savedAt = Date.now();
    };
    save({});
    const tracked: RunContext = {
      ...run,
      progress: (update) => {
        run.progress(update);
        const phase = update.phase ?? journal.phase;
        if (phase !== journal.phase || Date.now() - savedAt >= CHECKPOINT_MS) save({ phase, doneBytes: update.done, totalBytes: update.total ?? journal.totalBytes });
        else journal = { ...journal, phase, doneBytes: update.done, totalBytes: update.total ?? journal.totalBytes };
      },
    };
    let result: T;
    try {
      result = await work(tracked);
    } catch (error) {
      const shadow = ShadowError.from(run.signal.aborted ? (run.signal.reason ?? error) : error);
      try {
        save({ interruptedBy: { code: shadow.code, message: shadow.message } });
      } catch {
        // The journal as last saved still marks the target; the work's own error is the one to report.
      }
      throw error;
    }
    this.remove(journal.target);
    return result;
  }

  private read(path: string): RestoreJournal | undefined {
    const text = readStateFile(path);
    if (text === undefined) return undefined;
    try {
      const journal = JSON.parse(text) as RestoreJournal;
      if (journal.version !== 1 || typeof journal.target !== 'string' || typeof journal.source !== 'string') throw new Error(`version ${String(journal.version)}`);
      return journal;
    } catch (error) {
      throw new ShadowError('RECOVERY_NEEDED', `The restore journal ${path} is unreadable (${(error as Error).message}); the target it names may hold an incomplete restore: restore onto it again, then delete this file`);
    }
  }
}

/** The command that finishes an interrupted restore or copy: the same one again. */
export function rerunCommand(journal: RestoreJournal): string {
  if (journal.repository !== undefined) return `shadowdisk image restore --repo ${journal.repository} ${journal.source} ${journal.target} --yes --passphrase-file FILE`;
  const verb = journal.operation === 'image restore' ? 'image restore' : 'disk copy';
  return `shadowdisk ${verb} ${journal.source} ${journal.target} --yes${journal.encrypted ? ' --passphrase-file FILE' : ''}`;
}

export function percentDone(journal: RestoreJournal): number {
  return journal.totalBytes > 0 ? Math.floor((journal.doneBytes / journal.totalBytes) * 1000) / 10 : 0;
}

/** One sentence for the user: which target, from what, how far it got, and what to run. */
export function describeInterrupted(journal: RestoreJournal, stale?: string): string {
  const what = journal.operation === 'disk copy' ? `an incomplete copy of ${journal.source}` : journal.repository !== undefined
    ? `an incomplete restore of snapshot ${journal.source.slice(0, 8)} from the repository ${journal.repository}`
    : `an incomplete restore from the image ${journal.source}`;
  const progress = journal.phase === 'starting'
    ? 'before any data was written'
    : `in phase '${journal.phase}' at ${percentDone(journal)}% (${formatBytes(journal.doneBytes)} of ${formatBytes(journal.totalBytes)})`;
  const why = journal.interruptedBy ? ` (stopped by: ${journal.interruptedBy.message} [${journal.interruptedBy.code}])` : '';
  const staleNote = stale ? ` (the record may be stale: ${stale})` : '';
  return `${journal.target} holds ${what}, started ${journal.startedAt} and interrupted ${progress}${why}${staleNote}. Run '${rerunCommand(journal)}' to finish it`;
}
