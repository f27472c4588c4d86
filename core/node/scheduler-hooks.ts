// The scheduler's hooks (beforeRun veto, afterRun): owned by the host so any plugin can tap them through its context,
// called by the scheduler plugin through ctx.taskTypes; guarded like every hook (named taps, timeouts).
import { AsyncSeriesBailHook, AsyncSeriesHook } from 'tapable';
import type { ScheduledRunInfo, ScheduledRunOutcome, VetoResult } from '../../sdk/index.js';
import { guardHook, type TapGuardOptions } from '../common/index.js';

export interface SchedulerHookSet {
  readonly beforeRun: AsyncSeriesBailHook<[ScheduledRunInfo], VetoResult>;
  readonly afterRun: AsyncSeriesHook<[ScheduledRunInfo, ScheduledRunOutcome]>;
}

export class SchedulerHooksOwner {
  private lastTapper: string | undefined;
  readonly hooks: SchedulerHookSet;

  constructor(guard: Omit<TapGuardOptions, 'hookName'>) {
    const guarded = <H>(hook: H, hookName: string): H => {
      guardHook(hook, { ...guard, hookName });
      (hook as unknown as AsyncSeriesHook<unknown[]>).intercept({ tap: (tap) => void (this.lastTapper = tap.name) });
      return hook;
    };
    this.hooks = Object.freeze({
      beforeRun: guarded(new AsyncSeriesBailHook<[ScheduledRunInfo], VetoResult>(['run']), 'scheduler.beforeRun'),
      afterRun: guarded(new AsyncSeriesHook<[ScheduledRunInfo, ScheduledRunOutcome]>(['run', 'outcome']), 'scheduler.afterRun'),
    });
  }

  async beforeRun(run: ScheduledRunInfo): Promise<{ reason: string; vetoedBy: string } | undefined> {
    this.lastTapper = undefined;
    const veto = await this.hooks.beforeRun.promise(run);
    return typeof veto === 'string' ? { reason: veto, vetoedBy: this.lastTapper ?? 'unknown' } : undefined;
  }

  afterRun(run: ScheduledRunInfo, outcome: ScheduledRunOutcome): Promise<void> {
    return this.hooks.afterRun.promise(run, outcome);
  }
}
