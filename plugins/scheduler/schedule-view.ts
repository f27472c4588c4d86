// How schedules and runs print: JSON with ISO times for --json, tables for people.
import { formatBytes, renderTable } from '../../sdk/index.js';
import { nextDue } from './cron-plan.js';
import type { RunRecord, Schedule } from './schedule-store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function scheduleJson(s: Schedule, now: number, lastRun?: RunRecord) {
  const next = s.enabled ? nextDue(s.cron, s.timezone, Math.max(s.lastDueAt, now)) : null;
  return {
    id: s.id, taskType: s.taskType, params: s.params, cron: s.cron, timezone: s.timezone, catchUp: s.catchUp, retention: s.retention, enabled: s.enabled,
    createdAt: iso(s.createdAt), lastDueAt: iso(s.lastDueAt), nextRunAt: iso(next),
    lastRun: lastRun ? { id: lastRun.id, status: lastRun.status, startedAt: iso(lastRun.startedAt) } : null,
  };
}

export function runJson(r: RunRecord) {
  return {
    id: r.id, scheduleId: r.scheduleId, taskType: r.taskType, trigger: r.trigger, status: r.status,
    dueAt: iso(r.dueAt), startedAt: iso(r.startedAt), endedAt: iso(r.endedAt),
    durationMs: r.endedAt === null ? null : r.endedAt - r.startedAt,
    error: r.errorCode === null && r.errorMessage === null ? null : { code: r.errorCode, message: r.errorMessage },
    bytes: r.bytes, pid: r.pid, log: r.log,
  };
}

const short = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

export function schedulesText(list: ReturnType<typeof scheduleJson>[]): string {
  if (list.length === 0) return "No schedules; add one with 'shadowdisk schedule add'";
  return renderTable(['id', 'task type', 'cron', 'time zone', 'catch-up', 'enabled', 'next run', 'last run'], list.map((s) => [
    s.id, s.taskType, s.cron, s.timezone, s.catchUp, s.enabled ? 'yes' : 'no', s.nextRunAt, s.lastRun ? `${s.lastRun.status} (run ${s.lastRun.id})` : null,
  ]));
}

export function runsText(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return 'No runs recorded';
  return renderTable(['run', 'schedule', 'trigger', 'due', 'started', 'took', 'status', 'bytes', 'error'], runs.map((r) => [
    r.id, r.scheduleId, r.trigger, short(r.dueAt), short(r.startedAt), r.endedAt === null ? null : `${((r.endedAt - r.startedAt) / 1000).toFixed(1)} s`,
    r.status, formatBytes(r.bytes), r.errorMessage ? `${r.errorMessage}${r.errorCode ? ` [${r.errorCode}]` : ''}` : null,
  ]));
}
