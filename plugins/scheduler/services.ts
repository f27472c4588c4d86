// Wires the scheduler's parts over one store: the task runner (with the schedule's retention after a successful run)
// and the scheduler. The plugin builds it from its context; tests build it from a host with a hand-moved clock.
import type { Logger, PluginContext } from '../../sdk/index.js';
import type { Clock } from './clock.js';
import { Scheduler } from './scheduler.js';
import { ScheduleStore } from './schedule-store.js';
import { TaskRunnerService } from './task-runner.js';
import { applyRepositoryRetention, applyRetention, type RetentionTarget } from './tasks/retention-task.js';
import type { RepositoryRetentionTarget } from './tasks/backup-task.js';
import type { Commands } from './tasks/image-folder.js';

export interface SchedulerServicesOptions {
  storagePath: string;
  clock: Clock;
  taskTypes: PluginContext['taskTypes'];
  commands: Commands;
  log: Logger;
  graceMs?: number;
  pollMs?: number;
  abortGraceMs?: number;
  historyPerSchedule?: number;
}

export interface SchedulerServices extends Disposable {
  store: ScheduleStore;
  runner: TaskRunnerService;
  scheduler: Scheduler;
  clock: Clock;
  taskTypes: PluginContext['taskTypes'];
}

/** A task result that names folders of images (`retention`: the backup task's chains) gets the schedule's retention. */
function retentionTargetsOf(result: unknown): RetentionTarget[] {
  const targets = (result as { retention?: RetentionTarget | RetentionTarget[] } | null)?.retention;
  return (Array.isArray(targets) ? targets : targets ? [targets] : []).filter((t) => typeof t.dir === 'string' && typeof t.name === 'string');
}

export function createSchedulerServices(options: SchedulerServicesOptions): SchedulerServices {
  const store = new ScheduleStore(options.storagePath);
  const runner = new TaskRunnerService({
    store, clock: options.clock, taskTypes: options.taskTypes, log: options.log,
    ...(options.abortGraceMs !== undefined ? { abortGraceMs: options.abortGraceMs } : {}),
    ...(options.historyPerSchedule !== undefined ? { historyPerSchedule: options.historyPerSchedule } : {}),
    afterSuccess: async (schedule, result, run) => {
      if (!schedule.retention) return;
      for (const target of retentionTargetsOf(result)) {
        const outcome = await applyRetention(options.commands, target, schedule.retention, schedule.timezone, run);
        run.log.info(`Retention of '${target.name}' kept ${outcome.kept.length} image(s) and removed ${outcome.removed.length}`);
      }
      const inRepository = (result as { repositoryRetention?: RepositoryRetentionTarget } | null)?.repositoryRetention;
      if (inRepository) {
        const outcome = await applyRepositoryRetention(options.commands, inRepository, schedule.retention, run);
        run.log.info(`Retention of '${inRepository.source}' in ${inRepository.repo} forgot ${outcome.forgotten.length} snapshot(s)`);
      }
    },
  });
  const scheduler = new Scheduler({
    store, clock: options.clock, runner, log: options.log,
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  });
  return { store, runner, scheduler, clock: options.clock, taskTypes: options.taskTypes, [Symbol.dispose]: () => store[Symbol.dispose]() };
}
