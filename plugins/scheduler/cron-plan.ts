// When a schedule is due: croner parses the pattern and computes instants in the schedule's time zone (DST included).
import { Cron } from 'croner';
import { ShadowError } from '../../sdk/index.js';

/** Refuses a pattern croner cannot parse or a time zone the runtime does not know, naming the value. */
export function checkCron(cron: string, timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new ShadowError('INVALID_ARGUMENT', `Unknown time zone '${timezone}'; give an IANA name like 'Europe/Berlin' or 'UTC'`);
  }
  try {
    new Cron(cron, { timezone, paused: true });
  } catch (error) {
    throw new ShadowError('INVALID_ARGUMENT', `Invalid cron pattern '${cron}': ${(error as Error).message}; expected 5 or 6 fields like '0 2 * * *'`);
  }
}

/** The next instant strictly after `afterMs`, or null when the pattern has no more. */
export function nextDue(cron: string, timezone: string, afterMs: number): number | null {
  const next = new Cron(cron, { timezone, paused: true }).nextRun(new Date(afterMs));
  return next ? next.getTime() : null;
}

/** The instants in (afterMs, untilMs], oldest first, at most `limit` (the newest ones when there are more). */
export function dueBetween(cron: string, timezone: string, afterMs: number, untilMs: number, limit = 1000): { instants: number[]; dropped: number } {
  const job = new Cron(cron, { timezone, paused: true });
  const instants: number[] = [];
  let dropped = 0;
  let from = new Date(afterMs);
  for (;;) {
    const next = job.nextRun(from);
    if (!next || next.getTime() > untilMs) break;
    instants.push(next.getTime());
    if (instants.length > limit) {
      instants.shift();
      dropped++;
    }
    from = next;
  }
  return { instants, dropped };
}
