// Decides what is due: at each tick every enabled schedule's instants since the last one dealt with; an instant
// older than the grace period was missed (the daemon was down) and is caught up per the schedule's policy.
import type { Logger } from '../../sdk/index.js';
import type { Clock } from './clock.js';
import { dueBetween, nextDue } from './cron-plan.js';
import { processAlive } from './process-liveness.js';
import type { RunRecord, RunTrigger, Schedule, ScheduleStore } from './schedule-store.js';
import type { TaskRunnerService } from './task-runner.js';

export interface SchedulerOptions {
  store: ScheduleStore;
  clock: Clock;
  runner: TaskRunnerService;
  log: Logger;
  /** An instant this late or less is on time; older ones were missed. */
  graceMs?: number;
  /** How often the loop re-reads the schedules (CLI edits land within this). */
  pollMs?: number;
}

export interface TickPlan {
  scheduleId: string;
  runs: { dueAt: number; trigger: RunTrigger }[];
  /** Missed instants passed over by the catch-up policy (or beyond the cap). */
  passedOver: number;
}

const CATCH_UP_LIMIT = 1000;

export class Scheduler {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: SchedulerOptions) {}

  /** Runs left `running` by a process that is gone (killed, crashed, rebooted) become interrupted. */
  recoverInterrupted(): RunRecord[] {
    const { store, clock } = this.options;
    const dead = store.runningRuns().filter((r) => !processAlive(r.pid, r.bootId));
    for (const run of dead) {
      store.finishRun(run.id, {
        endedAt: clock.now(), status: 'interrupted', errorCode: 'ABORTED', bytes: run.bytes,
        errorMessage: `Interrupted: process ${run.pid} that ran it ended while it was in flight (killed, crashed or the machine restarted)`,
        log: run.log,
      });
      this.options.log.warn(`Run ${run.id} of schedule '${run.scheduleId}' was in flight when its process ${run.pid} died; recorded as interrupted`);
    }
    return dead;
  }

  /** What is due now for one schedule, after the catch-up policy. Pure apart from reading the clock. */
  plan(schedule: Schedule, now: number): TickPlan {
    const { instants, dropped } = dueBetween(schedule.cron, schedule.timezone, schedule.lastDueAt, now, CATCH_UP_LIMIT);
    const grace = this.options.graceMs ?? 60_000;
    // Instants within the grace (several, for a per-second pattern on a late tick) make one on-time run, the newest;
    // older ones were missed while nothing ran the schedule, and the catch-up policy decides.
    const recent = instants.filter((t) => now - t <= grace);
    const missed = instants.filter((t) => now - t > grace);
    const caughtUp = schedule.catchUp === 'all' ? missed : schedule.catchUp === 'once' ? missed.slice(-1) : [];
    return {
      scheduleId: schedule.id,
      runs: [...caughtUp.map((dueAt) => ({ dueAt, trigger: 'catch-up' as const })), ...recent.slice(-1).map((dueAt) => ({ dueAt, trigger: 'schedule' as const }))],
      passedOver: dropped + missed.length - caughtUp.length + Math.max(recent.length - 1, 0),
    };
  }

  /**
   * Starts what is due on every enabled schedule and moves each schedule's mark past it before any run starts (a
   * crash then never repeats a run). A schedule's runs of one tick go one after another. Resolves with the runs once
   * all of them have finished; the daemon does not wait for it.
   */
  tick(signal?: AbortSignal): { plans: TickPlan[]; done: Promise<RunRecord[]> } {
    const { store, clock, runner, log } = this.options;
    const now = clock.now();
    const plans: TickPlan[] = [];
    const chains: Promise<RunRecord[]>[] = [];
    for (const schedule of store.listSchedules().filter((s) => s.enabled)) {
      const plan = this.plan(schedule, now);
      if (plan.runs.length === 0 && plan.passedOver === 0) continue;
      store.setLastDue(schedule.id, Math.max(schedule.lastDueAt, ...plan.runs.map((r) => r.dueAt), now - (this.options.graceMs ?? 60_000)));
      if (plan.passedOver > 0) log.info(`Schedule '${schedule.id}': ${plan.passedOver} missed run(s) not caught up (catch-up: ${schedule.catchUp})`);
      plans.push(plan);
      const chain = (async () => {
        const records: RunRecord[] = [];
        for (const due of plan.runs) {
          // Stopping: runs not started yet stay unstarted (the mark already passed them; a restart does not repeat them).
          if (signal?.aborted) break;
          const record = await runner.run({ schedule, ...due }, signal ? { signal } : {});
          log.info(`Schedule '${schedule.id}': run ${record.id} (${due.trigger}, due ${new Date(due.dueAt).toISOString()}) ${record.status}${record.errorMessage ? `: ${record.errorMessage}` : ''}`);
          records.push(record);
        }
        return records;
      })();
      chains.push(chain);
    }
    const done = Promise.all(chains).then((lists) => lists.flat());
    this.track(done);
    return { plans, done };
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.options.log.error(`A scheduled run failed to record: ${(error as Error).message}`)).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** The earliest next instant over the enabled schedules, or null when none has one. */
  nextWake(): number | null {
    const { store, clock } = this.options;
    const now = clock.now();
    let earliest: number | null = null;
    for (const s of store.listSchedules().filter((x) => x.enabled)) {
      const next = nextDue(s.cron, s.timezone, Math.max(s.lastDueAt, now - (this.options.graceMs ?? 60_000)));
      if (next !== null && (earliest === null || next < earliest)) earliest = next;
    }
    return earliest;
  }

  /** The daemon's loop: tick, sleep until the next instant (or the poll interval), until the signal aborts. */
  async runUntil(signal: AbortSignal): Promise<void> {
    const { clock } = this.options;
    const pollMs = this.options.pollMs ?? 5000;
    while (!signal.aborted) {
      this.tick(signal);
      const next = this.nextWake();
      const wake = Math.min(next ?? Infinity, clock.now() + pollMs);
      await clock.sleepUntil(wake, signal).catch(() => undefined);
    }
    await this.drain();
  }

  /** Waits for every run this scheduler started. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }
}
