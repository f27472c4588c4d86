// Builds the PluginContext a plugin's activate(ctx) receives: registrations go into the plugin's own subscriptions.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandArgs, CommandResult, Logger, PluginContext, ProviderImplementations, ProviderPoint, RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import { pluginHookFacade } from '../common/index.js';
import type { ContributionRegistries } from './declare-contributions.js';
import type { PluginHost } from './plugin-host.js';
import type { PluginRecord } from './plugin-record.js';
import type { Settings } from './settings.js';
import type { HostOptions } from './tokens.js';
import { listCommands, resolveImplementation, runCommand } from './command-runner.js';

export interface PluginContextDeps {
  registries: ContributionRegistries;
  host: PluginHost;
  options: HostOptions;
  settings: () => Settings | undefined;
}

export function createPluginContext(record: PluginRecord, deps: PluginContextDeps): PluginContext {
  const { registries, host, options } = deps;
  const log: Logger = {
    info: (m) => options.logSink(record.id, 'info', m),
    warn: (m) => options.logSink(record.id, 'warn', m),
    error: (m) => options.logSink(record.id, 'error', m),
  };
  const storagePath = join(options.stateDir, 'plugins', record.id);
  return {
    pluginId: record.id,
    pluginPath: record.dir,
    get storagePath() {
      mkdirSync(storagePath, { recursive: true, mode: 0o700 });
      return storagePath;
    },
    stateDir: options.stateDir,
    log,
    subscriptions: { push: (...items) => items.forEach((i) => record.subscriptions.add(i)) },
    commands: {
      registerCommand: (id, handler) => record.subscriptions.add(registries.commands.implement(record.id, id, handler)),
      executeCommand: (id: string, args?: Partial<CommandArgs>, run?: Partial<RunContext>): Promise<CommandResult> => runCommand(registries, host, id, args, run),
      list: () => listCommands(registries),
    },
    register<P extends ProviderPoint>(point: P, id: string, implementation: ProviderImplementations[P]) {
      const registry = registries[point] as unknown as { implement(pluginId: string, key: string, impl: unknown): { dispose(): void } } | undefined;
      if (!registry) throw new ShadowError('INVALID_ARGUMENT', `Unknown contribution point '${point}'`);
      return record.subscriptions.add(registry.implement(record.id, id, implementation));
    },
    plugins: { list: () => host.list() },
    providers: {
      list: (point) => (registries[point].all() as { key: string; pluginId: string; contribution: { title: string } }[])
        .map((d) => ({ id: d.key, title: d.contribution.title, pluginId: d.pluginId })),
      get: async <P extends ProviderPoint>(point: P, id: string) => (await resolveImplementation(registries, host, point, id)) as unknown as ProviderImplementations[P],
    },
    settings: { get: <T>(key: string) => deps.settings()?.get<T>(key) },
    hooks: {
      pluginHost: Object.freeze({
        beforeActivate: pluginHookFacade(host.hooks.beforeActivate, record.id),
        activated: pluginHookFacade(host.hooks.activated, record.id),
        crashed: pluginHookFacade(host.hooks.crashed, record.id),
      }),
      scheduler: Object.freeze({
        beforeRun: pluginHookFacade(host.scheduler.hooks.beforeRun, record.id),
        afterRun: pluginHookFacade(host.scheduler.hooks.afterRun, record.id),
      }),
    },
    taskTypes: {
      list: () => registries.taskTypes.all().map((d) => ({ ...d.contribution, pluginId: d.pluginId })).sort((a, b) => a.id.localeCompare(b.id)),
      resolve: (id) => resolveImplementation(registries, host, 'taskTypes', id),
      beforeRun: (run) => host.scheduler.beforeRun(run),
      afterRun: (run, outcome) => host.scheduler.afterRun(run, outcome),
    },
  };
}
