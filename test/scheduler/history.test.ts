import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost } from '../../core/node/index.js';
import { ScheduleStore } from '../../plugins/scheduler/index.js';
import { HISTORY_SQL } from '../../plugins/scheduler/schedule-store.js';
import { MIGRATIONS } from '../../plugins/scheduler/schema.js';
import { seedHistory } from '../../bench/schedule-history-data.js';
import { tempStateDir } from '../helpers/index.js';
import { quietRun, schedulerHarness } from './harness.js';

describe('run history', () => {
  it('answers schedule history --limit 50 over 100,000 runs newest first through an index, and pages with --before', async () => {
    await using state = await tempStateDir();
    const folder = join(state.path, 'plugins', 'shadowdisk.scheduler');
    {
      using store = new ScheduleStore(folder);
      seedHistory(store, 100_000);
      expect(store.countRuns()).toBe(100_000);
      // Neither query sorts the table: both walk an index backwards (timings are for bench/schedule-history.ts).
      const plan = (sql: string, ...args: (string | number)[]) => (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');
      expect(plan(HISTORY_SQL.all, 1e15, 50)).toMatch(/^SEARCH runs USING INTEGER PRIMARY KEY \(rowid<\?\)$/);
      expect(plan(HISTORY_SQL.bySchedule, 'schedule-7', 1e15, 50)).toMatch(/^SEARCH runs USING (COVERING )?INDEX runs_by_schedule \(schedule_id=\? AND (id|rowid)<\?\)$/);
    }
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    const history = async (positionals: string[], options: Record<string, string>) => (await host.executeCommand('shadowdisk.scheduler.history', { positionals, options })).data as { runs: { id: number; scheduleId: string; status: string; dueAt: string; bytes: number; log: string }[] };
    const newest = await history([], { limit: '50' });
    expect(newest.runs.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => 100_000 - i));
    expect(newest.runs[0]).toMatchObject({ scheduleId: 'schedule-19', status: 'vetoed', dueAt: new Date(Date.UTC(2026, 0, 1) + 99_999 * 60_000).toISOString() });
    expect(newest.runs[0]!.log).toContain('sys-99999.sdimg');
    const page2 = await history([], { limit: '50', before: String(newest.runs.at(-1)!.id) });
    expect(page2.runs[0]!.id).toBe(99_950);
    const one = await history(['schedule-7'], { limit: '50' });
    expect(one.runs).toHaveLength(50);
    expect(one.runs.every((r) => r.scheduleId === 'schedule-7')).toBe(true);
    expect(one.runs.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => 99_988 - 20 * i));
  });

  it('keeps the newest runs of each schedule (scheduler.historyPerSchedule) as runs end, runs in flight and other schedules untouched', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z', { historyPerSchedule: 3 });
    h.add('nap', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{"ms":1}' });
    h.add('other', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{"ms":1}' });
    const store = h.services.store;
    for (let i = 0; i < 4; i++) await h.commands.runNow({ positionals: ['other'], options: {} }, quietRun());
    // A run left in flight by a process that died stays whatever its age (recoverInterrupted records it).
    const stuck = store.insertRun({ scheduleId: 'nap', taskType: 'fixtures.chores.nap', trigger: 'schedule', dueAt: 0, startedAt: 0, endedAt: null, status: 'running', errorCode: null, errorMessage: null, bytes: 0, log: '', pid: 999_999_999, bootId: 'gone' });
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push((await h.commands.runNow({ positionals: ['nap'], options: {} }, quietRun()) as { data: { id: number } }).data.id);
    const kept = store.history({ scheduleId: 'nap', limit: 100 }).map((r) => r.id);
    expect(kept).toEqual([ids[5], ids[4], ids[3], stuck]);
    expect(store.history({ scheduleId: 'other', limit: 100 })).toHaveLength(3);
    // 0 keeps every run.
    expect(store.pruneHistory('nap', 0)).toBe(0);
  });

  it('keeps the record of a long run that ends after more newer runs were skipped than the history keeps', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z', { historyPerSchedule: 2 });
    h.add('long', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{"ms":1500}' });
    const long = h.commands.runNow({ positionals: ['long'], options: {} }, quietRun());
    await new Promise((r) => setTimeout(r, 300));
    const skipped: number[] = [];
    for (let i = 0; i < 3; i++) skipped.push((await h.commands.runNow({ positionals: ['long'], options: {} }, quietRun()) as { data: { id: number; status: string } }).data.id);
    const ended = (await long) as { data: { id: number; status: string } };
    expect(ended.data.status).toBe('succeeded');
    expect(h.services.store.history({ scheduleId: 'long', limit: 100 }).map((r) => r.id)).toEqual([skipped[2], skipped[1], ended.data.id]);
  });

  it('records its schema version and refuses a database newer than it knows', async () => {
    await using state = await tempStateDir();
    {
      using store = new ScheduleStore(state.path);
      expect(store.schemaVersion).toBe(MIGRATIONS.length);
      store.db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    }
    expect(() => new ScheduleStore(state.path)).toThrow(`The scheduler database in '${state.path}' has schema version ${MIGRATIONS.length + 1} but this Shadowdisk knows up to ${MIGRATIONS.length}; upgrade Shadowdisk`);
  });
});
