// The scheduler under test: a real host (first-party plugins and the fixtures), a temporary state directory, and the
// scheduler's services over a clock the test moves by hand.
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import type { CommandArgs, PluginContext } from '../../sdk/index.js';
import { createSchedulerServices, ManualClock, type SchedulerServices } from '../../plugins/scheduler/index.js';
import { scheduleCommands } from '../../plugins/scheduler/schedule-commands.js';
import { captureIo } from '../../core/node/cli/capture-io.js';
import { main } from '../../core/node/cli/main.js';
import { tempStateDir, type TempDir } from '../helpers/index.js';

export const fixtures = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));

export interface SchedulerHarness extends AsyncDisposable {
  host: ShadowdiskHost;
  state: TempDir;
  clock: ManualClock;
  services: SchedulerServices;
  commands: ReturnType<typeof scheduleCommands>;
  /** `schedule add` as the CLI calls it. */
  add(id: string, options: Record<string, string | boolean>): ReturnType<ReturnType<typeof scheduleCommands>['add']>;
}

/** The host's task types as a plugin context sees them. */
export function hostTaskTypes(host: ShadowdiskHost): PluginContext['taskTypes'] {
  return {
    list: () => host.registry('taskTypes').all().map((d) => ({ ...d.contribution, pluginId: d.pluginId })),
    resolve: (id) => host.provider('taskTypes', id),
    beforeRun: (run) => host.plugins.scheduler.beforeRun(run),
    afterRun: (run, outcome) => host.plugins.scheduler.afterRun(run, outcome),
  };
}

/** With `host`, the scheduler runs on that host and its state folder, which the caller releases. */
export async function schedulerHarness(startAt: string, options: { graceMs?: number; abortGraceMs?: number; historyPerSchedule?: number; host?: ShadowdiskHost } = {}): Promise<SchedulerHarness> {
  const { host: given, ...timing } = options;
  const state = given ? { path: given.options.stateDir, [Symbol.asyncDispose]: async () => undefined } : await tempStateDir();
  const host = given ?? (await createHost({ stateDir: state.path, extraPluginRoots: [fixtures], logSink: () => undefined }));
  const clock = new ManualClock(new Date(startAt).getTime());
  const services = createSchedulerServices({
    storagePath: join(state.path, 'plugins', 'shadowdisk.scheduler'),
    clock,
    taskTypes: hostTaskTypes(host),
    commands: { executeCommand: (id, args, run) => host.executeCommand(id, args, run) },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    ...timing,
  });
  const commands = scheduleCommands(() => services);
  return {
    host, state, clock, services, commands,
    add: (id, opts) => commands.add({ positionals: [id], options: opts } satisfies CommandArgs),
    async [Symbol.asyncDispose]() {
      await services.scheduler.drain();
      services[Symbol.dispose]();
      if (!given) await host[Symbol.asyncDispose]();
      await state[Symbol.asyncDispose]();
    },
  };
}

/** A run context that asks nothing and shows nothing: for run-now calls. */
export function quietRun(): { signal: AbortSignal; progress: () => void; log: { info: () => void; warn: () => void; error: () => void } } {
  return { signal: new AbortController().signal, progress: () => undefined, log: { info: () => undefined, warn: () => undefined, error: () => undefined } };
}

/** The CLI in this process, as `shadowdisk ARGV` (SHADOWDISK_HOME and SHADOWDISK_PLUGIN_PATH from the environment). */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** For CLI tests: each test gets a fresh state directory in SHADOWDISK_HOME and the fixture plugins; returns its path. */
export function useCliState(): () => string {
  let state: TempDir | undefined;
  beforeEach(async () => {
    state = await tempStateDir();
    process.env['SHADOWDISK_HOME'] = state.path;
    process.env['SHADOWDISK_PLUGIN_PATH'] = fixtures;
  });
  afterEach(async () => {
    delete process.env['SHADOWDISK_HOME'];
    delete process.env['SHADOWDISK_PLUGIN_PATH'];
    await state?.[Symbol.asyncDispose]();
  });
  return () => state!.path;
}
