import { describe, expect, it } from 'vitest';
import { ShadowError } from '../../sdk/index.js';
import { Job, type JobEvent } from './job.js';

function clockedJob(signal?: AbortSignal) {
  let now = 0;
  const events: JobEvent[] = [];
  const job = new Job({ title: 'copy', onEvent: (e) => events.push(e), now: () => now, ...(signal ? { signal } : {}) });
  return { job, events, tick: (ms: number) => (now += ms) };
}

describe('job', () => {
  it('computes rate and ETA from recent progress', () => {
    const { job, events, tick } = clockedJob();
    job.progress({ phase: 'copy', done: 0, total: 1000 });
    tick(1000);
    job.progress({ done: 100 });
    tick(1000);
    job.progress({ done: 200 });
    const last = events.at(-1) as Extract<JobEvent, { type: 'progress' }>;
    expect(last).toMatchObject({ phase: 'copy', done: 200, total: 1000, bytesPerSec: 100 });
    expect(last.etaSec).toBeCloseTo(8);
  });

  it('throttles bursts but always reports a phase change and completion', () => {
    const { job, events, tick } = clockedJob();
    job.progress({ phase: 'read', done: 0, total: 10 });
    for (let i = 1; i < 10; i++) {
      tick(1);
      job.progress({ done: i });
    }
    tick(1);
    job.progress({ done: 10 });
    tick(1);
    job.progress({ phase: 'verify', done: 0, total: 10 });
    expect(events.map((e) => (e.type === 'progress' ? `${e.phase}:${e.done}` : e.type))).toEqual(['read:0', 'read:10', 'verify:0']);
  });

  it('sends progress at least once a second while the work is silent', async () => {
    const events: JobEvent[] = [];
    const job = new Job({ title: 'wait', onEvent: (e) => events.push(e), heartbeatMs: 50 });
    await job.run(async (run) => {
      run.progress({ phase: 'wait', done: 1, total: 2 });
      await new Promise((r) => setTimeout(r, 220));
    });
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThanOrEqual(3);
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded' });
  });

  it('cancels through its AbortSignal and reports ABORTED', async () => {
    const parent = new AbortController();
    const { job, events } = clockedJob(parent.signal);
    const running = job.run(async (run) => {
      await new Promise((_, reject) => run.signal.addEventListener('abort', () => reject(run.signal.reason)));
    });
    parent.abort();
    await expect(running).rejects.toSatisfy((e: unknown) => e instanceof ShadowError && e.code === 'ABORTED');
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'cancelled', error: { code: 'ABORTED' } });
  });

  it('reports a failure with its code', async () => {
    const { job, events } = clockedJob();
    await expect(job.run(async () => { throw new ShadowError('TARGET_BUSY', '/dev/sdz is mounted'); })).rejects.toThrow('/dev/sdz is mounted');
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'failed', error: { code: 'TARGET_BUSY' } });
  });
});
