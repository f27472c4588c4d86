// A schedule and a run as the store keeps them, and their mapping from SQLite rows.
import type { SQLInputValue } from 'node:sqlite';
import type { ScheduledRunStatus } from '../../sdk/index.js';
import type { RetentionPolicy } from './retention-policy.js';

export type CatchUp = 'none' | 'once' | 'all';
export type RunTrigger = 'schedule' | 'catch-up' | 'manual';

export interface Schedule {
  id: string;
  taskType: string;
  params: unknown;
  cron: string;
  timezone: string;
  catchUp: CatchUp;
  retention: RetentionPolicy | null;
  enabled: boolean;
  createdAt: number;
  /** The newest due instant already dealt with (run, skipped or passed over by the catch-up policy). */
  lastDueAt: number;
}

export interface RunRecord {
  id: number;
  scheduleId: string | null;
  taskType: string;
  trigger: RunTrigger;
  dueAt: number;
  startedAt: number;
  endedAt: number | null;
  status: ScheduledRunStatus;
  errorCode: string | null;
  errorMessage: string | null;
  bytes: number;
  log: string;
  pid: number;
  bootId: string;
}

export type Row = Record<string, SQLInputValue>;

export function scheduleOf(row: Row): Schedule {
  return {
    id: String(row['id']),
    taskType: String(row['task_type']),
    params: JSON.parse(String(row['params'])) as unknown,
    cron: String(row['cron']),
    timezone: String(row['timezone']),
    catchUp: String(row['catch_up']) as CatchUp,
    retention: row['retention'] === null ? null : (JSON.parse(String(row['retention'])) as RetentionPolicy),
    enabled: Number(row['enabled']) === 1,
    createdAt: Number(row['created_at']),
    lastDueAt: Number(row['last_due_at']),
  };
}

export function runOf(row: Row): RunRecord {
  return {
    id: Number(row['id']),
    scheduleId: row['schedule_id'] === null ? null : String(row['schedule_id']),
    taskType: String(row['task_type']),
    trigger: String(row['trigger']) as RunTrigger,
    dueAt: Number(row['due_at']),
    startedAt: Number(row['started_at']),
    endedAt: row['ended_at'] === null ? null : Number(row['ended_at']),
    status: String(row['status']) as ScheduledRunStatus,
    errorCode: row['error_code'] === null ? null : String(row['error_code']),
    errorMessage: row['error_message'] === null ? null : String(row['error_message']),
    bytes: Number(row['bytes']),
    log: String(row['log']),
    pid: Number(row['pid']),
    bootId: String(row['boot_id']),
  };
}
