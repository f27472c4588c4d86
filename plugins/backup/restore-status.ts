// What `image restore` and `disk copy` tell the user about restores that did not finish: before they write (every
// journal left behind, and whether this run finishes or replaces one on its own target), and on `--status`.
import { join } from 'node:path';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import { canonicalPath, identityChange } from './engine/device-identity.js';
import { describeInterrupted, percentDone, rerunCommand, RestoreJournalStore, type RestoreJournal } from './engine/restore-journal.js';

/** One journal per target, shared by `image restore` and `disk copy`. */
export function restoreJournals(ctx: PluginContext): RestoreJournalStore {
  return new RestoreJournalStore(join(ctx.storagePath, 'restore-journal'));
}

export interface InterruptedReport {
  operation: RestoreJournal['operation'];
  target: string;
  source: string;
  repository: string | null;
  chain: string[] | null;
  phase: string;
  doneBytes: number;
  totalBytes: number;
  percent: number;
  startedAt: string;
  updatedAt: string;
  interruptedBy: { code: string; message: string } | null;
  /** Why the target may no longer be the device the journal was written for. */
  stale: string | null;
  rerun: string;
  message: string;
}

export function reportOf(journal: RestoreJournal): InterruptedReport {
  const stale = identityChange(journal.target, journal.targetIdentity) ?? null;
  return {
    operation: journal.operation, target: journal.target, source: journal.source, repository: journal.repository ?? null, chain: journal.chain ?? null, phase: journal.phase,
    doneBytes: journal.doneBytes, totalBytes: journal.totalBytes, percent: percentDone(journal), startedAt: journal.startedAt, updatedAt: journal.updatedAt,
    interruptedBy: journal.interruptedBy ?? null, stale, rerun: rerunCommand(journal), message: describeInterrupted(journal, stale ?? undefined),
  };
}

/**
 * Warns about every unfinished restore or copy, and returns the one on `target` (this run finishes it when it writes
 * the same source again, and replaces it otherwise). A repository restore's source is its snapshot id in `repository`.
 */
export function noticeInterrupted(store: RestoreJournalStore, target: string, source: string, run: RunContext, repository?: string): { report: InterruptedReport; sameSource: boolean; note: string } | undefined {
  let own: { report: InterruptedReport; sameSource: boolean; note: string } | undefined;
  for (const journal of store.pending((error) => run.log.warn(error.message))) {
    const report = reportOf(journal);
    if (journal.target !== target) {
      run.log.warn(report.message);
      continue;
    }
    const sameSource = repository !== undefined || journal.repository !== undefined
      ? journal.repository === repository && journal.source === source
      : canonicalPath(journal.source) === canonicalPath(source);
    const from = journal.repository !== undefined ? `snapshot ${journal.source.slice(0, 8)} of ${journal.repository}` : journal.source;
    const note = sameSource
      ? `${target} held an incomplete ${journal.operation === 'image restore' ? 'restore' : 'copy'} of ${from} (interrupted at ${report.percent}%); this run finishes it`
      : `${target} held ${journal.operation === 'image restore' ? `an incomplete restore from ${from}` : `an incomplete copy of ${from}`} (interrupted at ${report.percent}%); this run replaces it`;
    run.log.warn(note);
    own = { report, sameSource, note };
  }
  return own;
}

/** A half-written target is no source: refuse to read it until its restore or copy is finished or its record dropped. */
export function refuseIncompleteSource(store: RestoreJournalStore, source: string, verb: string): void {
  const journal = store.load(canonicalPath(source));
  if (!journal) return;
  throw new ShadowError('RECOVERY_NEEDED', `Cannot ${verb} ${source}: ${reportOf(journal).message}, or drop the record with 'shadowdisk image restore --forget ${journal.target}' if it was rewritten since`);
}

/** `--status` (every unfinished restore and copy) and `--forget TARGET` (drop one record once the target is dealt with). */
export function statusCommand(store: RestoreJournalStore, args: CommandArgs): CommandResult | undefined {
  const forget = args.options['forget'];
  if (forget !== undefined) {
    if (typeof forget !== 'string') throw new ShadowError('INVALID_ARGUMENT', '--forget needs the target whose record to drop');
    const target = canonicalPath(forget);
    // Not read first: a record too damaged to read can be dropped too.
    if (!store.remove(target)) throw new ShadowError('NOT_FOUND', `No unfinished restore or copy is recorded for ${target}; 'shadowdisk image restore --status' lists them`);
    return { data: { forgotten: target }, text: `Dropped the record of the unfinished restore or copy onto ${target}; its contents stay incomplete unless they were rewritten some other way` };
  }
  if (args.options['status'] !== true) return undefined;
  const unreadable: string[] = [];
  const interrupted = store.pending((error) => unreadable.push(error.message)).map(reportOf);
  return {
    data: { interrupted, unreadable },
    text: interrupted.length + unreadable.length === 0 ? 'No unfinished restores or disk copies' : [...interrupted.map((r) => r.message), ...unreadable].join('\n'),
  };
}
