// Which snapshots `repo prune` keeps: per source (host and path), the newest N and the newest of each of the last
// N days, ISO weeks and months (UTC). Everything else is forgotten.
import type { SnapshotManifest } from './repository.js';

export interface RetentionPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

const periods: [keyof RetentionPolicy, (d: Date) => string][] = [
  ['keepDaily', (d) => d.toISOString().slice(0, 10)],
  ['keepWeekly', (d) => {
    // ISO week: the week of the Thursday in it.
    const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 3 - ((d.getUTCDay() + 6) % 7)));
    const week = Math.floor((thursday.getTime() - Date.UTC(thursday.getUTCFullYear(), 0, 1)) / 604_800_000) + 1;
    return `${thursday.getUTCFullYear()}-W${week}`;
  }],
  ['keepMonthly', (d) => d.toISOString().slice(0, 7)],
];

export function forgetByPolicy(snapshots: readonly SnapshotManifest[], policy: RetentionPolicy): { kept: SnapshotManifest[]; forgotten: SnapshotManifest[] } {
  const keep = new Set<string>();
  const groups = new Map<string, SnapshotManifest[]>();
  for (const s of snapshots) {
    const group = `${s.host}\u0000${s.source}`;
    groups.set(group, [...(groups.get(group) ?? []), s]);
  }
  for (const list of groups.values()) {
    const newestFirst = [...list].sort((a, b) => b.time.localeCompare(a.time));
    newestFirst.slice(0, policy.keepLast ?? 0).forEach((s) => keep.add(s.id));
    for (const [name, period] of periods) {
      const seen = new Set<string>();
      for (const s of newestFirst) {
        if (seen.size >= (policy[name] ?? 0)) break;
        const key = period(new Date(s.time));
        if (seen.has(key)) continue;
        seen.add(key);
        keep.add(s.id);
      }
    }
  }
  return { kept: snapshots.filter((s) => keep.has(s.id)), forgotten: snapshots.filter((s) => !keep.has(s.id)) };
}
