// The scheduler plugin: schedules and run history in SQLite, built-in task types (backup, verify, retention), the
// schedule commands and the daemon. Task types of other plugins are found through ctx.taskTypes.
import type { PluginContext, TaskRunner } from '../../sdk/index.js';
import { packageRoot } from '../../core/node/index.js';
import { systemClock } from './clock.js';
import { daemonCommand, daemonInstallCommand } from './daemon-command.js';
import { scheduleCommands } from './schedule-commands.js';
import { createSchedulerServices, type SchedulerServices } from './services.js';
import { DEFAULT_HISTORY_PER_SCHEDULE } from './task-runner.js';
import { backupTask } from './tasks/backup-task.js';
import { retentionTask } from './tasks/retention-task.js';
import { verifyTask } from './tasks/verify-task.js';

export { ManualClock, systemClock, type Clock } from './clock.js';
export { createSchedulerServices, type SchedulerServices } from './services.js';
export { ScheduleStore, type Schedule, type RunRecord } from './schedule-store.js';
export { selectRetained, type RetentionPolicy } from './retention-policy.js';
export { systemdUnit, UNIT_NAME } from './systemd-unit.js';

let services: SchedulerServices | undefined;

/** The setting scheduler.historyPerSchedule: a whole number from 0 up, else the default (and the log says why). */
function historyPerSchedule(value: unknown, log?: { warn(message: string): void }): number {
  if (value === undefined || value === null) return DEFAULT_HISTORY_PER_SCHEDULE;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  log?.warn(`Setting scheduler.historyPerSchedule must be a whole number from 0 up, got ${JSON.stringify(value)}; keeping ${DEFAULT_HISTORY_PER_SCHEDULE} runs per schedule`);
  return DEFAULT_HISTORY_PER_SCHEDULE;
}

export function activate(ctx: PluginContext): void {
  // Opened on first use: `shadowdisk plugins` must not create the database.
  const open = () => (services ??= createSchedulerServices({ storagePath: ctx.storagePath, clock: systemClock, taskTypes: ctx.taskTypes, commands: ctx.commands, log: ctx.log, historyPerSchedule: historyPerSchedule(ctx.settings.get('scheduler.historyPerSchedule'), ctx.log) }));
  ctx.subscriptions.push({ dispose: () => { services?.[Symbol.dispose](); services = undefined; } });
  const commands = scheduleCommands(open);
  const reg = ctx.commands.registerCommand;
  ctx.subscriptions.push(
    reg('shadowdisk.scheduler.add', (args) => commands.add(args)),
    reg('shadowdisk.scheduler.edit', (args) => commands.edit(args)),
    reg('shadowdisk.scheduler.remove', (args) => commands.remove(args)),
    reg('shadowdisk.scheduler.enable', (args) => commands.setEnabled(args, true)),
    reg('shadowdisk.scheduler.disable', (args) => commands.setEnabled(args, false)),
    reg('shadowdisk.scheduler.list', () => commands.list()),
    reg('shadowdisk.scheduler.types', () => commands.types()),
    reg('shadowdisk.scheduler.run-now', (args, run) => commands.runNow(args, run)),
    reg('shadowdisk.scheduler.history', (args) => commands.history(args)),
    reg('shadowdisk.scheduler.daemon', (args, run) => daemonCommand(open(), run, args.options['no-serve'] === true ? undefined : (signal) => ctx.commands.executeCommand(
      'shadowdisk.workbench.serve', { options: typeof args.options['port'] === 'string' ? { port: args.options['port'] } : {} }, { signal, log: run.log },
    ))),
    reg('shadowdisk.scheduler.daemon-install', (args) => daemonInstallCommand(args, ctx.stateDir, packageRoot())),
  );
  const task = (fn: (commands: PluginContext['commands'], params: unknown, run: Parameters<TaskRunner>[1]) => Promise<unknown>): TaskRunner => (params, run) => fn(ctx.commands, params, run);
  ctx.register('taskTypes', 'shadowdisk.scheduler.backup', task(backupTask));
  ctx.register('taskTypes', 'shadowdisk.scheduler.verify', task(verifyTask));
  ctx.register('taskTypes', 'shadowdisk.scheduler.retention', task(retentionTask));
}
