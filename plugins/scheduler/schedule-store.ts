// Schedules and their run history in SQLite (node:sqlite) under the plugin's storage folder: versioned schema, WAL so
// the daemon and CLI commands share it, and an index that keeps the newest-first history fast at any size.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowError, type ScheduledRunStatus } from '../../sdk/index.js';
import { MIGRATIONS } from './schema.js';
import { runOf, scheduleOf, type Row, type RunRecord, type Schedule } from './schedule-records.js';

export type { CatchUp, RunRecord, RunTrigger, Schedule } from './schedule-records.js';

export const DB_FILE = 'scheduler.sqlite';

/** The history queries: newest first by the primary key, or through runs_by_schedule (schedule_id, id). */
export const HISTORY_SQL = {
  all: 'SELECT * FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?',
  bySchedule: 'SELECT * FROM runs WHERE schedule_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
} as const;


export class ScheduleStore implements Disposable {
  readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  constructor(readonly folder: string) {
    try {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      this.db = new DatabaseSync(join(folder, DB_FILE), { timeout: 10_000 });
    } catch (error) {
      throw new ShadowError('IO_ERROR', `Cannot open the scheduler database in '${folder}': ${(error as Error).message}`, { cause: error });
    }
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON');
    this.migrate();
  }

  /** PRAGMA user_version counts the migrations applied; a newer database than this code knows is refused. */
  private migrate(): void {
    const version = Number((this.db.prepare('PRAGMA user_version').get() as Row)['user_version']);
    if (version > MIGRATIONS.length) {
      throw new ShadowError('UNSUPPORTED', `The scheduler database in '${this.folder}' has schema version ${version} but this Shadowdisk knows up to ${MIGRATIONS.length}; upgrade Shadowdisk`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  /** Prepared once per store: history and inserts run often. */
  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement;
  }

  get schemaVersion(): number {
    return Number((this.db.prepare('PRAGMA user_version').get() as Row)['user_version']);
  }

  /** BEGIN IMMEDIATE: the write lock is taken at once, so a check-then-insert is atomic across processes. */
  transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  addSchedule(s: Schedule): void {
    if (this.getSchedule(s.id)) throw new ShadowError('INVALID_ARGUMENT', `A schedule '${s.id}' already exists; pick another id or use 'schedule edit'`);
    this.sql(`INSERT INTO schedules (id, task_type, params, cron, timezone, catch_up, retention, enabled, created_at, last_due_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(s.id, s.taskType, JSON.stringify(s.params ?? null), s.cron, s.timezone, s.catchUp, s.retention ? JSON.stringify(s.retention) : null, s.enabled ? 1 : 0, s.createdAt, s.lastDueAt);
  }

  updateSchedule(s: Schedule): void {
    this.sql(`UPDATE schedules SET task_type = ?, params = ?, cron = ?, timezone = ?, catch_up = ?, retention = ?, enabled = ?, last_due_at = ? WHERE id = ?`)
      .run(s.taskType, JSON.stringify(s.params ?? null), s.cron, s.timezone, s.catchUp, s.retention ? JSON.stringify(s.retention) : null, s.enabled ? 1 : 0, s.lastDueAt, s.id);
  }

  setLastDue(id: string, lastDueAt: number): void {
    this.sql('UPDATE schedules SET last_due_at = ? WHERE id = ?').run(lastDueAt, id);
  }

  removeSchedule(id: string): boolean {
    return Number(this.sql('DELETE FROM schedules WHERE id = ?').run(id).changes) > 0;
  }

  getSchedule(id: string): Schedule | undefined {
    const row = this.sql('SELECT * FROM schedules WHERE id = ?').get(id) as Row | undefined;
    return row ? scheduleOf(row) : undefined;
  }

  /** The schedule, or NOT_FOUND naming the id. */
  requireSchedule(id: string): Schedule {
    const s = this.getSchedule(id);
    if (!s) throw new ShadowError('NOT_FOUND', `No schedule '${id}'; run 'shadowdisk schedule list' to see them`);
    return s;
  }

  listSchedules(): Schedule[] {
    return (this.sql('SELECT * FROM schedules ORDER BY id').all() as Row[]).map(scheduleOf);
  }

  insertRun(r: Omit<RunRecord, 'id'>): number {
    const result = this.sql(`INSERT INTO runs (schedule_id, task_type, trigger, due_at, started_at, ended_at, status, error_code, error_message, bytes, log, pid, boot_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(r.scheduleId, r.taskType, r.trigger, r.dueAt, r.startedAt, r.endedAt, r.status, r.errorCode, r.errorMessage, r.bytes, r.log, r.pid, r.bootId);
    return Number(result.lastInsertRowid);
  }

  finishRun(id: number, end: { endedAt: number; status: ScheduledRunStatus; errorCode: string | null; errorMessage: string | null; bytes: number; log: string }): void {
    this.sql('UPDATE runs SET ended_at = ?, status = ?, error_code = ?, error_message = ?, bytes = ?, log = ? WHERE id = ?')
      .run(end.endedAt, end.status, end.errorCode, end.errorMessage, end.bytes, end.log, id);
  }

  /**
   * Deletes a schedule's finished runs beyond its newest `keep` finished ones (runs in flight stay; 0 keeps all);
   * returns how many went. `spared`: a run kept whatever its age (the one that just ended: a long run can end after
   * many newer ones were skipped, and its caller still reads its record).
   * Walks the (schedule_id, id) index.
   */
  pruneHistory(scheduleId: string, keep: number, spared = -1): number {
    if (keep <= 0) return 0;
    const edge = this.sql("SELECT id FROM runs WHERE schedule_id = ? AND status != 'running' ORDER BY id DESC LIMIT 1 OFFSET ?").get(scheduleId, keep) as Row | undefined;
    if (!edge) return 0;
    return Number(this.sql("DELETE FROM runs WHERE schedule_id = ? AND id <= ? AND status != 'running' AND id != ?").run(scheduleId, Number(edge['id']), spared).changes);
  }

  getRun(id: number): RunRecord | undefined {
    const row = this.sql('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return row ? runOf(row) : undefined;
  }

  /** Runs still marked running (in flight here or elsewhere, or left by a process that died). */
  runningRuns(scheduleId?: string): RunRecord[] {
    const rows = scheduleId === undefined
      ? this.sql("SELECT * FROM runs WHERE status = 'running' ORDER BY id").all()
      : this.sql("SELECT * FROM runs WHERE status = 'running' AND schedule_id = ? ORDER BY id").all(scheduleId);
    return (rows as Row[]).map(runOf);
  }

  /** Newest first; the query walks an index (never a sort of the whole table). */
  history(options: { scheduleId?: string; limit: number; beforeId?: number }): RunRecord[] {
    const before = options.beforeId ?? Number.MAX_SAFE_INTEGER;
    const rows = options.scheduleId === undefined
      ? this.sql(HISTORY_SQL.all).all(before, options.limit)
      : this.sql(HISTORY_SQL.bySchedule).all(options.scheduleId, before, options.limit);
    return (rows as Row[]).map(runOf);
  }

  countRuns(scheduleId?: string): number {
    const row = (scheduleId === undefined ? this.sql('SELECT count(*) AS n FROM runs').get() : this.sql('SELECT count(*) AS n FROM runs WHERE schedule_id = ?').get(scheduleId)) as Row;
    return Number(row['n']);
  }

  /** The daemon's registration; a live one is returned instead of being replaced. */
  claimDaemon(pid: number, bootId: string, startedAt: number, isAlive: (pid: number, bootId: string) => boolean): { pid: number; startedAt: number } | undefined {
    return this.transaction(() => {
      const row = this.sql('SELECT * FROM daemon WHERE id = 1').get() as Row | undefined;
      if (row && Number(row['pid']) !== pid && isAlive(Number(row['pid']), String(row['boot_id']))) return { pid: Number(row['pid']), startedAt: Number(row['started_at']) };
      this.sql('INSERT OR REPLACE INTO daemon (id, pid, boot_id, started_at) VALUES (1, ?, ?, ?)').run(pid, bootId, startedAt);
      return undefined;
    });
  }

  releaseDaemon(pid: number): void {
    this.sql('DELETE FROM daemon WHERE id = 1 AND pid = ?').run(pid);
  }

  daemonRecord(): { pid: number; bootId: string; startedAt: number } | undefined {
    const row = this.sql('SELECT * FROM daemon WHERE id = 1').get() as Row | undefined;
    return row ? { pid: Number(row['pid']), bootId: String(row['boot_id']), startedAt: Number(row['started_at']) } : undefined;
  }

  [Symbol.dispose](): void {
    if (this.db.isOpen) this.db.close();
  }
}
