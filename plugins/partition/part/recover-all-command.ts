// `shadowdisk recover [disk]`: every interrupted apply (table writes, data moves, data steps) found in the state
// directory, rolled back or finished one disk at a time through `part recover`, and reported.
import type { CommandArgs, CommandResult, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import type { PartServices } from './part-services.js';

type RecoverOne = (args: CommandArgs, run: RunContext) => Promise<CommandResult>;

export async function recoverAllCommand(services: PartServices, recoverOne: RecoverOne, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  if (args.positionals[0] !== undefined) return recoverOne(args, run);
  const pending = services.journals.pending();
  if (pending.length === 0) return { data: { recovered: [] }, text: 'Nothing to recover: no interrupted apply or move in the state directory' };
  const results: { disk: string; state: string; outcome: unknown; error?: { code: string; message: string } }[] = [];
  for (const journal of pending) {
    try {
      const result = await recoverOne({ positionals: [journal.disk], options: args.options }, run);
      results.push({ disk: journal.disk, state: journal.state, outcome: result.data });
    } catch (error) {
      const e = ShadowError.from(error, 'IO_ERROR');
      results.push({ disk: journal.disk, state: journal.state, outcome: null, error: { code: e.code, message: e.message } });
    }
  }
  const text = results.map((r) => `${r.disk} (interrupted at '${r.state}'): ${r.error ? `not recovered: ${r.error.message}` : String((r.outcome as { action?: string })?.action ?? 'nothing to do')}`).join('\n');
  const failed = results.filter((r) => r.error);
  if (failed.length > 0 && failed.length === results.length) {
    throw new ShadowError(failed[0]!.error!.code as ShadowError['code'], `Could not recover ${failed.length} interrupted apply(s):\n${text}`, { details: { results } });
  }
  return { data: { recovered: results }, text };
}

/** Said once when the partition plugin starts and finds interrupted applies: they block new applies on those disks. */
export function warnAboutUnfinished(services: PartServices): void {
  let pending;
  try {
    pending = services.journals.pending();
  } catch (error) {
    services.ctx.log.warn(`An apply journal cannot be read: ${(error as Error).message}`);
    return;
  }
  for (const journal of pending) {
    const moving = journal.state === 'moving' ? ' while moving partition data' : '';
    services.ctx.log.warn(`An apply on ${journal.disk} was interrupted at '${journal.state}'${moving}; run 'shadowdisk recover' (or 'shadowdisk part recover ${journal.disk}') to finish or roll it back`);
  }
}
