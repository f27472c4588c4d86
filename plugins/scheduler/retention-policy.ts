// Which images a retention policy keeps: the newest N, and the newest of each of the last N days, weeks and months
// (in the schedule's time zone); then every parent of a kept image, so no kept incremental loses its chain.
import { z } from 'zod';

export const retentionPolicySchema = z.strictObject({
  keepLast: z.number().int().min(1).optional(),
  daily: z.number().int().min(0).optional(),
  weekly: z.number().int().min(0).optional(),
  monthly: z.number().int().min(0).optional(),
}).refine((p) => Object.values(p).some((v) => v !== undefined && v > 0), 'must keep something: give keepLast, daily, weekly or monthly');

export type RetentionPolicy = z.output<typeof retentionPolicySchema>;

export interface RetainedImage {
  file: string;
  atMs: number;
  /** The file this image was made against (incremental or differential), null for a full image. */
  parent: string | null;
}

export interface RetentionDecision {
  keep: string[];
  remove: string[];
  /** Why each kept image stays: `last`, `daily 2026-03-29`, `parent of x.sdimg`... */
  reasons: Record<string, string[]>;
}

export function selectRetained(images: readonly RetainedImage[], policy: RetentionPolicy, timezone = 'UTC'): RetentionDecision {
  const newestFirst = [...images].sort((a, b) => b.atMs - a.atMs || b.file.localeCompare(a.file));
  const reasons: Record<string, string[]> = {};
  const mark = (file: string, reason: string) => (reasons[file] ??= []).push(reason);
  newestFirst.slice(0, policy.keepLast ?? 0).forEach((image) => mark(image.file, 'last'));
  const local = calendarKeys(timezone);
  for (const [name, count, key] of [['daily', policy.daily, local.day], ['weekly', policy.weekly, local.week], ['monthly', policy.monthly, local.month]] as const) {
    const seen = new Set<string>();
    for (const image of newestFirst) {
      if (seen.size >= (count ?? 0)) break;
      const period = key(image.atMs);
      if (seen.has(period)) continue;
      seen.add(period);
      mark(image.file, `${name} ${period}`);
    }
  }
  // A kept image needs its whole chain back to the full image.
  const byFile = new Map(images.map((i) => [i.file, i]));
  for (const file of Object.keys(reasons)) {
    let parent = byFile.get(file)?.parent ?? null;
    let child = file;
    while (parent !== null && byFile.has(parent)) {
      mark(parent, `parent of ${child}`);
      child = parent;
      parent = byFile.get(parent)!.parent;
    }
  }
  const keep = newestFirst.filter((i) => reasons[i.file]).map((i) => i.file);
  const remove = newestFirst.filter((i) => !reasons[i.file]).map((i) => i.file);
  return { keep, remove, reasons };
}

/** Day (2026-03-29), ISO week (2026-W13) and month (2026-03) of an instant, as the clock on the wall of `timezone` says. */
function calendarKeys(timezone: string) {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const parts = (ms: number) => {
    const p = Object.fromEntries(format.formatToParts(ms).map((x) => [x.type, x.value]));
    return { y: Number(p['year']), m: Number(p['month']), d: Number(p['day']) };
  };
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    day: (ms: number) => {
      const { y, m, d } = parts(ms);
      return `${y}-${pad(m)}-${pad(d)}`;
    },
    month: (ms: number) => {
      const { y, m } = parts(ms);
      return `${y}-${pad(m)}`;
    },
    week: (ms: number) => {
      const { y, m, d } = parts(ms);
      // ISO 8601: the week belongs to the year of its Thursday.
      const date = new Date(Date.UTC(y, m - 1, d));
      const weekday = (date.getUTCDay() + 6) % 7;
      date.setUTCDate(date.getUTCDate() - weekday + 3);
      const isoYear = date.getUTCFullYear();
      const week = 1 + Math.floor((date.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000 / 7);
      return `${isoYear}-W${pad(week)}`;
    },
  };
}
