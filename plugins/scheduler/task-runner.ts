// Runs one task: concurrency (skip or queue behind a run in flight), the beforeRun veto, the task under its timeout,
// then the record (status, error code, bytes, log excerpt), afterRun taps and the schedule's retention.
import { setTimeout as sleep } from 'node:timers/promises';
import { ShadowError, type Logger, type PluginContext, type ProgressUpdate, type ScheduledRunInfo, type ScheduledRunStatus, type TaskRunContext, type TaskTypeInfo } from '../../sdk/index.js';
import type { Clock } from './clock.js';
import { BOOT_ID, processAlive } from './process-liveness.js';
import { RunLog } from './run-log.js';
import type { RunRecord, RunTrigger, Schedule, ScheduleStore } from './schedule-store.js';

export interface RunRequest {
  schedule: Schedule;
  trigger: RunTrigger;
  dueAt: number;
}

export interface TaskRunnerDeps {
  store: ScheduleStore;
  clock: Clock;
  taskTypes: PluginContext['taskTypes'];
  log: Logger;
  /** After a task succeeded: the schedule's retention (given the task's result); a throw fails the run. */
  afterSuccess?: (schedule: Schedule, result: unknown, run: TaskRunContext) => Promise<void>;
  /** How long a task that ignores its aborted signal is waited for before the run is recorded anyway. */
  abortGraceMs?: number;
  /** How often a queued run looks whether the run ahead of it finished. */
  queuePollMs?: number;
  /** Runs kept in each schedule's history (the newest); older ones are deleted as new ones end. 0: all kept. */
  historyPerSchedule?: number;
}

/** Runs a schedule's history keeps by default (setting scheduler.historyPerSchedule): a daily schedule's ~3 years. */
export const DEFAULT_HISTORY_PER_SCHEDULE = 1000;

interface Outcome {
  status: ScheduledRunStatus;
  error?: ShadowError;
  bytes: number;
}

export class TaskRunnerService {
  /** Run ids in flight in this process. */
  private readonly inFlight = new Set<number>();

  constructor(private readonly deps: TaskRunnerDeps) {}

  private isLive(run: RunRecord): boolean {
    return run.pid === process.pid && run.bootId === BOOT_ID ? this.inFlight.has(run.id) : processAlive(run.pid, run.bootId);
  }

  /** Runs of the schedule still in flight here or in another live process (the daemon, a `run-now`). */
  liveRuns(scheduleId: string): RunRecord[] {
    return this.deps.store.runningRuns(scheduleId).filter((r) => this.isLive(r));
  }

  async run(request: RunRequest, outer: { signal?: AbortSignal; progress?: (u: ProgressUpdate) => void; log?: Logger } = {}): Promise<RunRecord> {
    const { store, clock } = this.deps;
    const { schedule } = request;
    const taskType = this.deps.taskTypes.list().find((t) => t.id === schedule.taskType);
    const concurrency = taskType?.concurrency ?? 'skip';
    const base = { scheduleId: schedule.id, taskType: schedule.taskType, trigger: request.trigger, dueAt: request.dueAt, pid: process.pid, bootId: BOOT_ID };
    for (;;) {
      // Check and insert under one write lock, so two processes cannot both start the same schedule.
      const claimed = store.transaction(() => {
        const live = this.liveRuns(schedule.id);
        const now = clock.now();
        if (live.length === 0) return { kind: 'started' as const, runId: store.insertRun({ ...base, startedAt: now, endedAt: null, status: 'running', errorCode: null, errorMessage: null, bytes: 0, log: '' }) };
        if (concurrency === 'queue') return { kind: 'queued' as const, runId: live[0]!.id };
        const message = `Skipped: run ${live[0]!.id} of schedule '${schedule.id}' is still in flight (task type concurrency: skip)`;
        const skipped = store.insertRun({ ...base, startedAt: now, endedAt: now, status: 'skipped', errorCode: null, errorMessage: message, bytes: 0, log: '' });
        this.pruneHistory(schedule.id, skipped);
        return { kind: 'skipped' as const, runId: skipped };
      });
      if (claimed.kind === 'started') return this.execute(claimed.runId, request, taskType, outer);
      if (claimed.kind === 'skipped') {
        this.deps.log.info(`Schedule '${schedule.id}': run ${claimed.runId} skipped, an earlier run is still in flight`);
        return store.getRun(claimed.runId)!;
      }
      if (outer.signal?.aborted) throw new ShadowError('ABORTED', `Schedule '${schedule.id}': a queued run was cancelled before it started`);
      await sleep(this.deps.queuePollMs ?? 100);
    }
  }

  private pruneHistory(scheduleId: string, spared: number): void {
    const keep = this.deps.historyPerSchedule ?? DEFAULT_HISTORY_PER_SCHEDULE;
    if (keep > 0) this.deps.store.pruneHistory(scheduleId, keep, spared);
  }

  private async execute(runId: number, request: RunRequest, taskType: TaskTypeInfo | undefined, outer: { signal?: AbortSignal; progress?: (u: ProgressUpdate) => void; log?: Logger }): Promise<RunRecord> {
    const { store, clock } = this.deps;
    const { schedule } = request;
    this.inFlight.add(runId);
    const log = new RunLog(() => clock.now(), outer.log);
    const info: ScheduledRunInfo = { runId, scheduleId: schedule.id, taskType: schedule.taskType, params: schedule.params, trigger: request.trigger, dueAt: new Date(request.dueAt).toISOString() };
    let outcome: Outcome;
    try {
      outcome = await this.attempt(info, request, taskType, log, outer);
    } catch (error) {
      const shadow = ShadowError.from(error);
      outcome = { status: 'failed', error: shadow, bytes: 0 };
    }
    if (outcome.error) log.error(`${outcome.error.message} [${outcome.error.code}]`);
    store.finishRun(runId, { endedAt: clock.now(), status: outcome.status, errorCode: outcome.error?.code ?? null, errorMessage: outcome.error?.message ?? null, bytes: outcome.bytes, log: log.excerpt() });
    this.inFlight.delete(runId);
    this.pruneHistory(schedule.id, runId);
    await this.deps.taskTypes.afterRun(info, { status: outcome.status, errorCode: outcome.error?.code ?? null, bytes: outcome.bytes })
      .catch((error: unknown) => this.deps.log.error(`An afterRun tap failed for run ${runId}: ${(error as Error).message}`));
    return store.getRun(runId)!;
  }

  private async attempt(info: ScheduledRunInfo, request: RunRequest, taskType: TaskTypeInfo | undefined, log: RunLog, outer: { signal?: AbortSignal; progress?: (u: ProgressUpdate) => void }): Promise<Outcome> {
    const { schedule } = request;
    if (!taskType) throw new ShadowError('CONTRIBUTION_NOT_FOUND', `No plugin contributes task type '${schedule.taskType}' any more; install its plugin or remove schedule '${schedule.id}'`);
    // Resolved first: activating the task type's plugin lets it tap beforeRun for its own runs (a busy target).
    const runner = await this.deps.taskTypes.resolve(taskType.id);
    const veto = await this.deps.taskTypes.beforeRun(info);
    if (veto) {
      log.warn(`Vetoed by plugin '${veto.vetoedBy}': ${veto.reason}`);
      return { status: 'vetoed', error: new ShadowError('TARGET_BUSY', `Run vetoed by plugin '${veto.vetoedBy}': ${veto.reason}`), bytes: 0 };
    }
    const controller = new AbortController();
    const timeoutMs = (taskType.timeoutSec ?? 0) * 1000;
    let ended: 'timeout' | 'outer' | undefined;
    const timer = timeoutMs > 0 ? setTimeout(() => {
      ended = 'timeout';
      controller.abort(new ShadowError('TIMEOUT', `Task '${taskType.id}' ran longer than its ${taskType.timeoutSec} s timeout`));
    }, timeoutMs) : undefined;
    const onOuterAbort = () => {
      ended ??= 'outer';
      controller.abort(new ShadowError('ABORTED', `Run ${info.runId} was stopped: the scheduler is shutting down`));
    };
    outer.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (outer.signal?.aborted) onOuterAbort();
    let bytesDone = 0;
    const run: TaskRunContext = {
      signal: controller.signal,
      runId: info.runId,
      scheduleId: schedule.id,
      dueAt: new Date(request.dueAt),
      log,
      progress: (update) => {
        if (update.phase === undefined || /byte/i.test(update.phase)) bytesDone = Math.max(bytesDone, update.done);
        outer.progress?.(update);
      },
    };
    try {
      const work = runner(schedule.params, run);
      // The loser of the race may settle later; the race's own subscription keeps that from being unhandled.
      const result = await Promise.race([work, abortedAndGraceOver(controller.signal, this.deps.abortGraceMs ?? 10_000)]);
      if (ended) return this.abortedOutcome(ended, controller.signal, bytesDone);
      await this.deps.afterSuccess?.(schedule, result, run);
      return { status: 'succeeded', bytes: bytesOf(result) ?? bytesDone };
    } catch (error) {
      if (ended) return this.abortedOutcome(ended, controller.signal, bytesDone);
      return { status: 'failed', error: ShadowError.from(error), bytes: bytesDone };
    } finally {
      clearTimeout(timer);
      outer.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  private abortedOutcome(ended: 'timeout' | 'outer', signal: AbortSignal, bytes: number): Outcome {
    return { status: ended === 'timeout' ? 'timed-out' : 'interrupted', error: signal.reason as ShadowError, bytes };
  }
}

/** Rejects `graceMs` after the signal aborted: a task that ignores its signal does not hold the record back forever. */
function abortedAndGraceOver(signal: AbortSignal, graceMs: number): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => setTimeout(() => reject(signal.reason as Error), graceMs).unref(), { once: true });
  });
}

function bytesOf(result: unknown): number | undefined {
  const bytes = (result as { bytes?: unknown } | null)?.bytes;
  return typeof bytes === 'number' && Number.isFinite(bytes) ? bytes : undefined;
}
