import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../plugins/scheduler/index.js';
import { schedulerHarness, type SchedulerHarness } from './harness.js';

const HOUR = 3_600_000;

/** Moves the clock in steps to `until`, ticking at each step and waiting for the runs it started. */
async function runClockTo(h: SchedulerHarness, until: string, stepMs: number): Promise<RunRecord[]> {
  const end = new Date(until).getTime();
  const runs: RunRecord[] = [];
  while (h.clock.now() < end) {
    h.clock.set(Math.min(h.clock.now() + stepMs, end));
    runs.push(...(await h.services.scheduler.tick().done));
  }
  return runs;
}

const dueTimes = (runs: RunRecord[], scheduleId: string) => runs.filter((r) => r.scheduleId === scheduleId).map((r) => new Date(r.dueAt).toISOString());

describe('scheduler timing with an injected clock', () => {
  it('fires a daily 02:30 Berlin schedule at the right instants across the spring and autumn DST changes', async () => {
    await using h = await schedulerHarness('2026-03-27T12:00:00Z');
    h.add('daily', { task: 'fixtures.chores.nap', cron: '30 2 * * *', timezone: 'Europe/Berlin', params: '{"ms":0}' });
    h.add('hourly', { task: 'fixtures.chores.nap', cron: '30 * * * *', timezone: 'Europe/Berlin', params: '{"ms":0}' });
    const spring = await runClockTo(h, '2026-03-30T12:00:00Z', HOUR / 4);
    // CET (+1) before the change; 02:30 does not exist on 29 March (clocks jump 02:00 -> 03:00), so it runs at 03:00 CEST; then CEST (+2).
    expect(dueTimes(spring, 'daily')).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    expect(spring.every((r) => r.status === 'succeeded' && r.trigger === 'schedule')).toBe(true);
    // The hourly schedule fires once per real hour: 23 runs on the short local day (23:00Z to 22:00Z).
    expect(dueTimes(spring, 'hourly').filter((t) => t >= '2026-03-28T23:00' && t < '2026-03-29T22:00')).toHaveLength(23);

    h.clock.set('2026-10-24T12:00:00Z');
    h.services.store.setLastDue('daily', h.clock.now());
    h.services.store.setLastDue('hourly', h.clock.now());
    const autumn = await runClockTo(h, '2026-10-26T12:00:00Z', HOUR / 4);
    // 02:30 happens twice on 25 October (CEST, then CET); the daily schedule runs at the first only.
    expect(dueTimes(autumn, 'daily')).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    const hourly = dueTimes(autumn, 'hourly');
    expect(hourly).toContain('2026-10-25T00:30:00.000Z');
    expect(hourly).toContain('2026-10-25T01:30:00.000Z');
    // 25 hours on the long day, each fired once.
    expect(hourly.filter((t) => t >= '2026-10-24T22:00' && t < '2026-10-25T23:00')).toHaveLength(25);
    expect(new Set(hourly).size).toBe(hourly.length);
  });

  it('after a simulated 3-day downtime catches up none, once or all of the missed runs as each schedule says', async () => {
    await using h = await schedulerHarness('2026-06-01T03:00:00Z');
    for (const policy of ['none', 'once', 'all']) h.add(policy, { task: 'fixtures.chores.nap', cron: '0 2 * * *', timezone: 'UTC', params: '{"ms":0}', 'catch-up': policy });
    expect(await h.services.scheduler.tick().done).toEqual([]);
    // The daemon is down from 06-01 03:00 to 06-04 10:00: the 02:00 runs of 06-02, 06-03 and 06-04 are missed.
    h.clock.set('2026-06-04T10:00:00Z');
    expect(h.services.scheduler.recoverInterrupted()).toEqual([]);
    const caught = await h.services.scheduler.tick().done;
    expect(dueTimes(caught, 'none')).toEqual([]);
    expect(dueTimes(caught, 'once')).toEqual(['2026-06-04T02:00:00.000Z']);
    expect(dueTimes(caught, 'all')).toEqual(['2026-06-02T02:00:00.000Z', '2026-06-03T02:00:00.000Z', '2026-06-04T02:00:00.000Z']);
    expect(caught.every((r) => r.trigger === 'catch-up' && r.status === 'succeeded')).toBe(true);
    // Nothing is caught up twice, and the next instant runs on time for all three.
    expect(await h.services.scheduler.tick().done).toEqual([]);
    h.clock.set('2026-06-05T02:00:10Z');
    const next = await h.services.scheduler.tick().done;
    expect(next.map((r) => [r.scheduleId, r.trigger]).sort()).toEqual([['all', 'schedule'], ['none', 'schedule'], ['once', 'schedule']]);
    expect(h.services.store.countRuns()).toBe(7);
  });

  it('does not catch up the instants a schedule was disabled for, and starts an edited pattern from now', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    h.add('nightly', { task: 'fixtures.chores.nap', cron: '0 2 * * *', timezone: 'UTC', params: '{"ms":0}', 'catch-up': 'all' });
    h.commands.setEnabled({ positionals: ['nightly'], options: {} }, false);
    h.clock.set('2026-06-05T00:00:00Z');
    expect(await h.services.scheduler.tick().done).toEqual([]);
    h.commands.setEnabled({ positionals: ['nightly'], options: {} }, true);
    expect(await h.services.scheduler.tick().done).toEqual([]);
    h.clock.set('2026-06-05T02:00:00Z');
    expect(dueTimes(await h.services.scheduler.tick().done, 'nightly')).toEqual(['2026-06-05T02:00:00.000Z']);
    h.clock.set('2026-06-07T00:00:00Z');
    const edited = h.commands.edit({ positionals: ['nightly'], options: { cron: '0 3 * * *' } });
    expect(edited.data).toMatchObject({ cron: '0 3 * * *', nextRunAt: '2026-06-07T03:00:00.000Z' });
    expect(await h.services.scheduler.tick().done).toEqual([]);
  });
});

describe('scheduler plan', () => {
  it('folds the instants of a late tick that are still within the grace into one on-time run', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z', { graceMs: 60_000 });
    h.add('each-second', { task: 'fixtures.chores.nap', cron: '* * * * * *', params: '{"ms":0}', 'catch-up': 'all' });
    h.clock.set('2026-06-01T00:00:05Z');
    const plan = h.services.scheduler.plan(h.services.store.getSchedule('each-second')!, h.clock.now());
    expect(plan).toEqual({ scheduleId: 'each-second', runs: [{ dueAt: Date.parse('2026-06-01T00:00:05Z'), trigger: 'schedule' }], passedOver: 4 });
    // 90 s late: the 29 instants more than 60 s old are missed (all caught up), the 61 within the grace fold into one.
    h.clock.set('2026-06-01T00:01:30Z');
    const late = h.services.scheduler.plan({ ...h.services.store.getSchedule('each-second')!, lastDueAt: Date.parse('2026-06-01T00:00:00Z') }, h.clock.now());
    expect(late.runs.filter((r) => r.trigger === 'catch-up')).toHaveLength(29);
    expect(late.runs.filter((r) => r.trigger === 'schedule')).toEqual([{ dueAt: Date.parse('2026-06-01T00:01:30Z'), trigger: 'schedule' }]);
    expect(late.passedOver).toBe(60);
  });
});
