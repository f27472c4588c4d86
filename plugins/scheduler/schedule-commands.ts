// `schedule add|edit|remove|enable|disable|list|types|run-now|history`: schedules in the store, validated against the
// task types plugins contribute; run-now runs in this process and is recorded like any other run.
import { ShadowError, type CommandArgs, type CommandResult, type RunContext } from '../../sdk/index.js';
import { integerOption, paramsOption, positional, stringOption } from './command-args.js';
import { checkCron } from './cron-plan.js';
import { checkParams } from './params-check.js';
import { retentionPolicySchema, type RetentionPolicy } from './retention-policy.js';
import type { CatchUp, Schedule } from './schedule-store.js';
import { runJson, runsText, scheduleJson, schedulesText } from './schedule-view.js';
import type { SchedulerServices } from './services.js';
import { ERROR_CODES, formatJsonPath, type ErrorCode } from '../../sdk/index.js';

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const CATCH_UP: readonly CatchUp[] = ['none', 'once', 'all'];

function catchUpOption(args: CommandArgs): CatchUp | undefined {
  const value = stringOption(args, 'catch-up');
  if (value !== undefined && !CATCH_UP.includes(value as CatchUp)) throw new ShadowError('INVALID_ARGUMENT', `--catch-up must be none, once or all, got '${value}'`);
  return value as CatchUp | undefined;
}

/** --keep-last/--daily/--weekly/--monthly merged over `base`; --no-retention clears it. */
function retentionOption(args: CommandArgs, base: RetentionPolicy | null): RetentionPolicy | null {
  if (args.options['no-retention'] === true) return null;
  const given: Record<string, number | undefined> = {
    keepLast: integerOption(args, 'keep-last', 1), daily: integerOption(args, 'daily', 0), weekly: integerOption(args, 'weekly', 0), monthly: integerOption(args, 'monthly', 0),
  };
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  if (Object.keys(set).length === 0) return base;
  const parsed = retentionPolicySchema.safeParse({ ...(base ?? {}), ...set });
  if (!parsed.success) throw new ShadowError('INVALID_ARGUMENT', `Invalid retention: ${parsed.error.issues.map((i) => `${formatJsonPath(i.path)}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function taskTypeOf(services: SchedulerServices, id: string) {
  const taskType = services.taskTypes.list().find((t) => t.id === id);
  if (!taskType) {
    const known = services.taskTypes.list().map((t) => t.id).join(', ');
    throw new ShadowError('CONTRIBUTION_NOT_FOUND', `No plugin contributes task type '${id}'; known task types: ${known || 'none'} ('shadowdisk schedule types' lists them)`);
  }
  return taskType;
}

function show(services: SchedulerServices, s: Schedule) {
  return scheduleJson(s, services.clock.now(), services.store.history({ scheduleId: s.id, limit: 1 })[0]);
}

export function scheduleCommands(services: () => SchedulerServices) {
  return {
    add(args: CommandArgs): CommandResult {
      const svc = services();
      const id = positional(args, 0, 'the schedule id');
      if (!ID.test(id)) throw new ShadowError('INVALID_ARGUMENT', `Schedule id '${id}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
      const taskId = stringOption(args, 'task');
      const cron = stringOption(args, 'cron');
      if (taskId === undefined || cron === undefined) throw new ShadowError('INVALID_ARGUMENT', 'Give --task TYPE and --cron PATTERN (and --params JSON when the task type takes params)');
      const timezone = stringOption(args, 'timezone') ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
      checkCron(cron, timezone);
      const params = checkParams(taskTypeOf(svc, taskId), paramsOption(args) ?? {});
      const now = svc.clock.now();
      const schedule: Schedule = {
        id, taskType: taskId, params, cron, timezone, catchUp: catchUpOption(args) ?? 'once', retention: retentionOption(args, null),
        enabled: args.options['disabled'] !== true, createdAt: now, lastDueAt: now,
      };
      svc.store.addSchedule(schedule);
      const data = show(svc, schedule);
      return { data, text: `Added schedule '${id}' (${taskId}, '${cron}' in ${timezone}); next run ${data.nextRunAt ?? 'never'}` };
    },

    edit(args: CommandArgs): CommandResult {
      const svc = services();
      const current = svc.store.requireSchedule(positional(args, 0, 'the schedule id'));
      const taskId = stringOption(args, 'task') ?? current.taskType;
      const cron = stringOption(args, 'cron') ?? current.cron;
      const timezone = stringOption(args, 'timezone') ?? current.timezone;
      checkCron(cron, timezone);
      const params = checkParams(taskTypeOf(svc, taskId), paramsOption(args) ?? current.params);
      // A new timing starts from now: instants of the old pattern are not caught up under the new one.
      const retimed = cron !== current.cron || timezone !== current.timezone;
      const next: Schedule = { ...current, taskType: taskId, cron, timezone, params, catchUp: catchUpOption(args) ?? current.catchUp, retention: retentionOption(args, current.retention), lastDueAt: retimed ? Math.max(current.lastDueAt, svc.clock.now()) : current.lastDueAt };
      svc.store.updateSchedule(next);
      return { data: show(svc, next), text: `Updated schedule '${next.id}'` };
    },

    remove(args: CommandArgs): CommandResult {
      const svc = services();
      const id = positional(args, 0, 'the schedule id');
      svc.store.requireSchedule(id);
      svc.store.removeSchedule(id);
      return { data: { id, removed: true }, text: `Removed schedule '${id}' (its run history stays)` };
    },

    setEnabled(args: CommandArgs, enabled: boolean): CommandResult {
      const svc = services();
      const current = svc.store.requireSchedule(positional(args, 0, 'the schedule id'));
      // Instants while a schedule was disabled are not missed runs: it starts again from now.
      const next = { ...current, enabled, lastDueAt: enabled && !current.enabled ? Math.max(current.lastDueAt, svc.clock.now()) : current.lastDueAt };
      svc.store.updateSchedule(next);
      return { data: show(svc, next), text: `Schedule '${next.id}' is ${enabled ? 'enabled' : 'disabled'}` };
    },

    list(): CommandResult {
      const svc = services();
      const schedules = svc.store.listSchedules().map((s) => show(svc, s));
      const daemon = svc.store.daemonRecord();
      return { data: { schedules, daemon: daemon ? { pid: daemon.pid, startedAt: new Date(daemon.startedAt).toISOString() } : null }, text: schedulesText(schedules) };
    },

    types(): CommandResult {
      const types = services().taskTypes.list();
      return {
        data: { taskTypes: types },
        text: types.map((t) => `${t.id}  ${t.title} (plugin ${t.pluginId}, concurrency ${t.concurrency}${t.timeoutSec ? `, timeout ${t.timeoutSec} s` : ''})`).join('\n') || 'No task types',
      };
    },

    async runNow(args: CommandArgs, run: RunContext): Promise<CommandResult> {
      const svc = services();
      const schedule = svc.store.requireSchedule(positional(args, 0, 'the schedule id'));
      const record = await svc.runner.run({ schedule, trigger: 'manual', dueAt: svc.clock.now() }, { signal: run.signal, progress: run.progress, log: run.log });
      if (record.status !== 'succeeded' && record.status !== 'skipped') {
        const code: ErrorCode = record.errorCode !== null && record.errorCode in ERROR_CODES ? (record.errorCode as ErrorCode) : 'INTERNAL';
        throw new ShadowError(code, `Run ${record.id} of schedule '${schedule.id}' ${record.status}: ${record.errorMessage ?? 'no message'}`, { details: { run: runJson(record) } });
      }
      return { data: runJson(record), text: runsText([record]) };
    },

    history(args: CommandArgs): CommandResult {
      const svc = services();
      const scheduleId = args.positionals[0];
      const limit = integerOption(args, 'limit', 1, 10_000) ?? 20;
      const beforeId = integerOption(args, 'before', 1);
      const runs = svc.store.history({ limit, ...(scheduleId !== undefined ? { scheduleId } : {}), ...(beforeId !== undefined ? { beforeId } : {}) });
      return { data: { runs: runs.map(runJson) }, text: runsText(runs) };
    },
  };
}
