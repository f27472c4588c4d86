import { describe, expect, it } from 'vitest';
import { cli, useCliState } from './harness.js';

useCliState();

const json = async (...argv: string[]) => {
  const { code, out, err } = await cli(...argv, '--json');
  return { code, data: JSON.parse(out) as Record<string, unknown>, err };
};

describe('shadowdisk schedule', () => {
  it('adds, lists, edits, disables, enables, runs now, shows history and removes a schedule through the CLI', async () => {
    const added = await json('schedule', 'add', 'nightly', '--task', 'fixtures.chores.nap', '--cron', '0 3 * * *', '--timezone', 'Europe/Berlin', '--params', '{"ms":5,"bytes":123}', '--keep-last', '3', '--catch-up', 'all');
    expect(added.code).toBe(0);
    expect(added.data).toMatchObject({ id: 'nightly', taskType: 'fixtures.chores.nap', timezone: 'Europe/Berlin', catchUp: 'all', retention: { keepLast: 3 }, enabled: true, params: { ms: 5, bytes: 123, fail: false } });
    expect((await json('schedule', 'add', 'nightly', '--task', 'fixtures.chores.nap', '--cron', '0 3 * * *', '--params', '{"ms":5}')).data).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: "A schedule 'nightly' already exists; pick another id or use 'schedule edit'" } });
    const types = await json('schedule', 'types');
    expect((types.data['taskTypes'] as { id: string }[]).map((t) => t.id)).toEqual(expect.arrayContaining(['shadowdisk.scheduler.backup', 'shadowdisk.scheduler.verify', 'shadowdisk.scheduler.retention', 'fixtures.chores.nap']));

    const edited = await json('schedule', 'edit', 'nightly', '--cron', '30 4 * * 1', '--weekly', '2', '--params', '{"ms":1,"bytes":9}');
    expect(edited.data).toMatchObject({ cron: '30 4 * * 1', retention: { keepLast: 3, weekly: 2 }, params: { ms: 1, bytes: 9 } });
    expect((await json('schedule', 'edit', 'nightly', '--params', '{"ms":"soon"}')).data).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect((await json('schedule', 'disable', 'nightly')).data).toMatchObject({ enabled: false, nextRunAt: null });
    expect((await json('schedule', 'enable', 'nightly')).data).toMatchObject({ enabled: true });

    const ran = await json('schedule', 'run-now', 'nightly');
    expect(ran.code).toBe(0);
    expect(ran.data).toMatchObject({ scheduleId: 'nightly', trigger: 'manual', status: 'succeeded', bytes: 9, error: null });
    const listed = await json('schedule', 'list');
    expect(listed.data).toMatchObject({ schedules: [{ id: 'nightly', lastRun: { id: ran.data['id'], status: 'succeeded' } }], daemon: null });
    const history = await json('schedule', 'history', 'nightly', '--limit', '5');
    expect(history.data).toMatchObject({ runs: [{ id: ran.data['id'], status: 'succeeded' }] });
    const text = await cli('schedule', 'history');
    expect(text.out).toMatch(/^run\s+schedule\s+trigger\s+due\s+started\s+took\s+status\s+bytes\s+error\n\d+\s+nightly\s+manual\s/);

    expect((await json('schedule', 'remove', 'nightly')).data).toEqual({ id: 'nightly', removed: true });
    expect((await json('schedule', 'list')).data).toMatchObject({ schedules: [] });
    // The history outlives its schedule.
    expect(((await json('schedule', 'history')).data['runs'] as unknown[]).length).toBe(1);
    const gone = await cli('schedule', 'run-now', 'nightly');
    expect(gone.code).toBe(3);
    expect(gone.err).toContain("No schedule 'nightly'; run 'shadowdisk schedule list' to see them [NOT_FOUND]");
  });

  it('refuses bad params at add with exit code 2 and the JSON path in the error', async () => {
    const bad = await json('schedule', 'add', 'x', '--task', 'fixtures.chores.nap', '--cron', '* * * * *', '--params', '{"ms":1,"target":{"path":7}}');
    expect(bad.code).toBe(2);
    expect(bad.data).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: "Invalid params for task type 'fixtures.chores.nap': target.path: Invalid input: expected string, received number" } });
    const backup = await json('schedule', 'add', 'y', '--task', 'shadowdisk.scheduler.backup', '--cron', '0 2 * * *', '--params', '{"source":"/dev/sdb","fullEvery":0}');
    expect((backup.data['error'] as { message: string }).message).toMatch(/^Invalid params for task type 'shadowdisk\.scheduler\.backup': fullEvery: [^;]*$/);
    expect((await json('schedule', 'add', 'z', '--task', 'fixtures.chores.nap', '--cron', '* * * * *', '--params', '{ms:1}')).data).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });
});
