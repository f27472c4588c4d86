import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isShadowError, type ShadowError } from '../../sdk/index.js';
import { quietRun, schedulerHarness, type SchedulerHarness } from './harness.js';

function thrown(fn: () => unknown): ShadowError {
  try {
    fn();
  } catch (error) {
    if (isShadowError(error)) return error;
    throw error;
  }
  throw new Error('expected a ShadowError');
}

describe('scheduled runs of a plugin-contributed task type', () => {
  it('runs a fixture task with its validated params and records status, bytes and a log excerpt', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    const added = h.add('nap', { task: 'fixtures.chores.nap', cron: '*/5 * * * *', timezone: 'UTC', params: '{"ms":10,"bytes":4096,"target":{"path":"/srv"}}' });
    // Defaults from the task type's schema are filled in at add.
    expect(added.data).toMatchObject({ params: { ms: 10, bytes: 4096, fail: false, target: { path: '/srv' } }, nextRunAt: '2026-06-01T00:05:00.000Z', catchUp: 'once' });
    h.clock.set('2026-06-01T00:05:00Z');
    const [run] = await h.services.scheduler.tick().done;
    expect(run).toMatchObject({ scheduleId: 'nap', taskType: 'fixtures.chores.nap', status: 'succeeded', bytes: 4096, errorCode: null, trigger: 'schedule' });
    expect(run!.log).toContain('napping 10 ms, due 2026-06-01T00:05:00.000Z');
    const history = h.commands.history({ positionals: ['nap'], options: {} }).data as { runs: { id: number; status: string }[] };
    expect(history.runs).toEqual([expect.objectContaining({ id: run!.id, status: 'succeeded' })]);
  });

  it('refuses bad params at schedule add with the JSON path of each problem, and an unknown task type, cron or zone', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    const bad = thrown(() => h.add('bad', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{"ms":-1,"target":{"path":"relative"},"colour":"red"}' }));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(/^Invalid params for task type 'fixtures\.chores\.nap': /);
    const paths = (bad.details!['problems'] as { path: string }[]).map((p) => p.path).sort();
    expect(paths).toEqual(['(root)', 'ms', 'target.path']);
    expect(bad.message).toContain('target.path: Invalid string: must match pattern');
    expect(thrown(() => h.add('bad', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{}' })).message).toContain('ms: ');
    expect(thrown(() => h.add('bad', { task: 'fixtures.chores.nope', cron: '0 * * * *' })).code).toBe('CONTRIBUTION_NOT_FOUND');
    expect(thrown(() => h.add('bad', { task: 'fixtures.chores.nap', cron: '61 * * * *', params: '{"ms":1}' })).message).toMatch(/^Invalid cron pattern '61 \* \* \* \*'/);
    expect(thrown(() => h.add('bad', { task: 'fixtures.chores.nap', cron: '0 * * * *', timezone: 'Mars/Olympus', params: '{"ms":1}' })).message).toBe("Unknown time zone 'Mars/Olympus'; give an IANA name like 'Europe/Berlin' or 'UTC'");
    expect(h.services.store.listSchedules()).toEqual([]);
  });

  it('aborts a task that overruns its timeout through its signal and records it as timed out', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z', { abortGraceMs: 200 });
    h.add('long', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{"ms":30000}' });
    const started = Date.now();
    const run = (await h.commands.runNow({ positionals: ['long'], options: {} }, quietRun()).catch((e: ShadowError) => e)) as ShadowError;
    expect(run.code).toBe('TIMEOUT');
    const [record] = h.services.store.history({ limit: 1 });
    expect(record).toMatchObject({ status: 'timed-out', errorCode: 'TIMEOUT', trigger: 'manual', errorMessage: "Task 'fixtures.chores.nap' ran longer than its 2 s timeout" });
    expect(record!.log).toContain('nap cut short');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(10_000);
    // The grace timer that lost the race to the prompt abort fires later: nothing may come of it.
    await new Promise((r) => setTimeout(r, 400));
    expect(h.services.store.countRuns()).toBe(1);
  });

  it('records a task that ignores its aborted signal as timed out once the grace after the abort is over', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z', { abortGraceMs: 300 });
    h.add('stuck', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{"ms":3500,"stubborn":true}' });
    const started = Date.now();
    await h.commands.runNow({ positionals: ['stuck'], options: {} }, quietRun()).catch(() => undefined);
    const elapsed = Date.now() - started;
    expect(h.services.store.history({ limit: 1 })[0]).toMatchObject({ status: 'timed-out', errorCode: 'TIMEOUT' });
    expect(elapsed).toBeGreaterThanOrEqual(2200);
    expect(elapsed).toBeLessThan(3400);
    // The nap ends later on its own; that must not disturb anything (no unhandled rejection, no second record).
    await new Promise((r) => setTimeout(r, 1500));
    expect(h.services.store.countRuns()).toBe(1);
  });

  it('skips a run that overlaps one still in flight (concurrency skip) and records the skip', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    const { first, second } = await overlappingRuns(h, 'minutely', 'fixtures.chores.nap', 1200);
    expect(second).toEqual([expect.objectContaining({ status: 'skipped', dueAt: Date.parse('2026-06-01T00:02:00Z') })]);
    expect(second[0]!.errorMessage).toMatch(/^Skipped: run \d+ of schedule 'minutely' is still in flight/);
    expect((await first)[0]).toMatchObject({ status: 'succeeded' });
    expect(h.services.store.history({ limit: 10 }).map((r) => r.status)).toEqual(['skipped', 'succeeded']);
  });

  it('queues a run that overlaps one in flight (concurrency queue) and runs it after', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    const overlap = await overlappingRuns(h, 'queued', 'fixtures.chores.queued-nap', 500);
    const [second] = overlap.second;
    const [firstRun] = await overlap.first;
    expect([firstRun!.status, second!.status]).toEqual(['succeeded', 'succeeded']);
    expect(second!.id).toBeGreaterThan(firstRun!.id);
    expect(h.services.store.getRun(firstRun!.id)!.endedAt).not.toBeNull();
  });

  it('records a run the beforeRun hook vetoes, naming the plugin and its reason', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    h.add('busy', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{"ms":1,"busy":"/dev/sdz"}' });
    const error = (await h.commands.runNow({ positionals: ['busy'], options: {} }, quietRun()).catch((e: ShadowError) => e)) as ShadowError;
    expect(error.code).toBe('TARGET_BUSY');
    expect(h.services.store.history({ limit: 1 })[0]).toMatchObject({ status: 'vetoed', errorCode: 'TARGET_BUSY', errorMessage: "Run vetoed by plugin 'fixtures.chores': target '/dev/sdz' is busy" });
  });

  it('tells afterRun taps each outcome: succeeded, failed and vetoed', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    const report = join(h.state.path, 'outcomes.ndjson');
    h.add('ok', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: JSON.stringify({ ms: 1, bytes: 5, report }) });
    h.add('bad', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: JSON.stringify({ ms: 1, fail: true, report }) });
    h.add('busy', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: JSON.stringify({ ms: 1, busy: '/dev/sdz', report }) });
    h.clock.set('2026-06-01T01:00:00Z');
    const runs = await h.services.scheduler.tick().done;
    const outcomes = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { runId: number; scheduleId: string; status: string; errorCode: string | null; bytes: number });
    expect(outcomes.sort((a, b) => a.runId - b.runId)).toEqual(runs.map((r) => ({ runId: r.id, scheduleId: r.scheduleId, trigger: 'schedule', status: r.status, errorCode: r.errorCode, bytes: r.bytes })).sort((a, b) => a.runId - b.runId));
    expect(outcomes.map((o) => `${o.scheduleId} ${o.status} ${o.errorCode} ${o.bytes}`).sort()).toEqual(['bad failed INTERNAL 0', 'busy vetoed TARGET_BUSY 0', 'ok succeeded null 5']);
  });

  it('records a failing task as failed with its error', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    h.add('oops', { task: 'fixtures.chores.nap', cron: '0 * * * *', params: '{"ms":1,"fail":true}' });
    h.clock.set('2026-06-01T01:00:00Z');
    const [run] = await h.services.scheduler.tick().done;
    expect(run).toMatchObject({ status: 'failed', errorCode: 'INTERNAL', errorMessage: 'the nap went wrong on purpose' });
  });
});

/** A minutely schedule whose task naps `ms`: the 00:01 run is still in flight when the 00:02 tick comes. */
async function overlappingRuns(h: SchedulerHarness, id: string, task: string, ms: number) {
  h.add(id, { task, cron: '* * * * *', params: JSON.stringify({ ms }) });
  h.clock.set('2026-06-01T00:01:00Z');
  const first = h.services.scheduler.tick().done;
  h.clock.set('2026-06-01T00:02:00Z');
  return { first, second: await h.services.scheduler.tick().done };
}
