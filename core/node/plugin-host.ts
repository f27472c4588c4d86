// Loads plugins from their manifests, declares their contributions, and activates each lazily on first use, around tapable hooks.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inject, injectable } from 'inversify';
import semver from 'semver';
import { AsyncSeriesBailHook, AsyncSeriesHook } from 'tapable';
import { ShadowError, toDisposable, type PluginInfo, type PluginModule, type VetoResult } from '../../sdk/index.js';
import { CONTRIBUTION_POINT_NAMES, guardHook, type ContributionPointName } from '../common/index.js';
import { declareContributions } from './declare-contributions.js';
import { createPluginContext } from './plugin-context.js';
import { PluginRecord } from './plugin-record.js';
import { SchedulerHooksOwner } from './scheduler-hooks.js';
import { scanPluginDirs, scanPluginRoots } from './plugin-scanner.js';
import { enabledPluginDirs } from './plugin-install/installed-plugins.js';
import { CRASH_LIMIT, CRASH_WINDOW_MIN, recordCrash } from './isolation/crash-record.js';
import { IsolatedPlugin } from './isolation/isolated-plugin.js';
import { listCommands, resolveImplementation, runCommand } from './command-runner.js';
import { ContributionRegistriesToken, HostOptionsToken, type HostOptions } from './tokens.js';
import type { ContributionRegistries } from './declare-contributions.js';
import { HOST_VERSION } from './version.js';
import type { Settings } from './settings.js';

export interface PluginHostHooks {
  /** Bail with a string to veto the activation; the string is the reason. */
  readonly beforeActivate: AsyncSeriesBailHook<[PluginInfo], VetoResult>;
  readonly activated: AsyncSeriesHook<[PluginInfo]>;
  readonly crashed: AsyncSeriesHook<[PluginInfo, Error]>;
}

@injectable()
export class PluginHost {
  @inject(HostOptionsToken) private readonly options!: HostOptions;
  @inject(ContributionRegistriesToken) private readonly registries!: ContributionRegistries;
  private readonly records = new Map<string, PluginRecord>();
  private lastTapper: string | undefined;
  private settingsService: Settings | undefined;

  readonly hooks: PluginHostHooks = Object.freeze({
    beforeActivate: this.guard(new AsyncSeriesBailHook<[PluginInfo], VetoResult>(['plugin']), 'pluginHost.beforeActivate'),
    activated: this.guard(new AsyncSeriesHook<[PluginInfo]>(['plugin']), 'pluginHost.activated'),
    crashed: this.guard(new AsyncSeriesHook<[PluginInfo, Error]>(['plugin', 'error']), 'pluginHost.crashed'),
  });

  /** The scheduler's beforeRun/afterRun hooks: tapped by any plugin, called by the scheduler plugin. */
  readonly scheduler = new SchedulerHooksOwner({ timeoutMs: () => this.options.tapTimeoutMs, isKnownTapper: (name) => this.records.has(name) });

  private guard<H>(hook: H, hookName: string): H {
    guardHook(hook, { hookName, timeoutMs: () => this.options.tapTimeoutMs, isKnownTapper: (name) => this.records.has(name) });
    // Remember which tap ran last, so a veto can name the plugin that made it.
    (hook as unknown as AsyncSeriesHook<unknown[]>).intercept({ tap: (tap) => void (this.lastTapper = tap.name) });
    return hook;
  }

  /** Set by the container once Settings exists (Settings depends on the registries this host fills). */
  attachSettings(settings: Settings): void {
    this.settingsService = settings;
  }

  /** Scans the plugin roots; each valid plugin's contributions are declared, invalid ones are kept as refused. */
  async load(): Promise<PluginInfo[]> {
    const roots = await scanPluginRoots(this.options.pluginRoots);
    const installed = await scanPluginDirs(enabledPluginDirs(this.options.stateDir));
    for (const scanned of [...roots, ...installed]) {
      const record = new PluginRecord(scanned);
      record.installed = installed.includes(scanned);
      if (this.records.has(record.id)) {
        this.options.logSink(record.id, 'warn', `Plugin '${record.id}' at ${record.dir} is ignored: a plugin with that id is already loaded from ${this.records.get(record.id)!.dir}`);
        continue;
      }
      this.records.set(record.id, record);
      if (record.state === 'refused') continue;
      const range = record.manifest!.engines.shadowdisk;
      if (!semver.validRange(range) || !semver.satisfies(HOST_VERSION, range, { includePrerelease: true })) {
        this.refuse(record, new ShadowError('PLUGIN_MANIFEST_INVALID', `Plugin '${record.id}' needs Shadowdisk '${range}' (engines.shadowdisk) but this is ${HOST_VERSION}`));
        continue;
      }
      try {
        declareContributions(record, this.registries);
      } catch (error) {
        this.refuse(record, ShadowError.from(error, 'PLUGIN_MANIFEST_INVALID'));
      }
    }
    return this.list();
  }

  private refuse(record: PluginRecord, error: ShadowError): void {
    record.subscriptions.dispose();
    record.state = 'refused';
    record.error = { code: error.code, message: error.message };
  }

  list(): PluginInfo[] {
    return [...this.records.values()].map((r) => r.info());
  }

  get(pluginId: string): PluginInfo | undefined {
    return this.records.get(pluginId)?.info();
  }

  /** Activates a plugin once; concurrent callers share the same activation. */
  activate(pluginId: string): Promise<void> {
    const record = this.records.get(pluginId);
    if (!record) return Promise.reject(new ShadowError('PLUGIN_NOT_FOUND', `No plugin '${pluginId}' is loaded; run 'shadowdisk plugins' to list them`));
    if (record.state === 'refused' || record.state === 'vetoed' || record.state === 'failed') {
      const code = record.state === 'vetoed' ? 'PLUGIN_ACTIVATION_VETOED' : record.error?.code === 'PLUGIN_DISABLED' ? 'PLUGIN_DISABLED' : 'PLUGIN_ACTIVATION_FAILED';
      return Promise.reject(new ShadowError(code, `Plugin '${pluginId}' is ${record.state}: ${record.error?.message ?? 'unknown reason'}`));
    }
    record.activation ??= this.doActivate(record);
    return record.activation;
  }

  private async doActivate(record: PluginRecord): Promise<void> {
    record.state = 'activating';
    let veto: VetoResult;
    try {
      this.lastTapper = undefined;
      veto = await this.hooks.beforeActivate.promise(record.info());
    } catch (error) {
      throw this.fail(record, ShadowError.from(error, 'PLUGIN_ACTIVATION_FAILED'));
    }
    if (typeof veto === 'string') {
      const error = new ShadowError('PLUGIN_ACTIVATION_VETOED', `Activation of plugin '${record.id}' was vetoed by plugin '${this.lastTapper ?? 'unknown'}': ${veto}`, { details: { plugin: record.id, vetoedBy: this.lastTapper } });
      record.state = 'vetoed';
      record.error = { code: error.code, message: error.message };
      throw error;
    }
    try {
      if (record.installed) {
        // Third-party plugins run in their own process; their registrations arrive as proxies.
        const isolated = await IsolatedPlugin.start({
          record, registries: this.registries, options: this.options, snapshot: this.isolationSnapshot(),
          executeCommand: (id, args) => runCommand(this.registries, this, id, args),
          resolve: (point, id) => resolveImplementation(this.registries, this, point as ContributionPointName, id),
          hooks: createPluginContext(record, { registries: this.registries, host: this, options: this.options, settings: () => this.settingsService }).hooks,
          onCrash: (cause) => this.isolatedCrashed(record, cause),
        });
        record.isolated = isolated;
        record.subscriptions.add(toDisposable(() => isolated.stop()));
      } else {
        const module = await this.importMain(record);
        record.module = module;
        await module.activate(createPluginContext(record, { registries: this.registries, host: this, options: this.options, settings: () => this.settingsService }));
      }
    } catch (error) {
      const wrapped = ShadowError.from(error, 'PLUGIN_ACTIVATION_FAILED');
      const failure = wrapped.code === 'INTERNAL' ? new ShadowError('PLUGIN_ACTIVATION_FAILED', `Plugin '${record.id}' failed to activate: ${wrapped.message}`, { cause: error }) : wrapped;
      await this.hooks.crashed.promise(record.info(), failure).catch((e: unknown) => this.options.logSink(record.id, 'error', `A crashed tap failed: ${String(e)}`));
      throw this.fail(record, failure);
    }
    record.state = 'active';
    await this.hooks.activated.promise(record.info());
  }

  private isolationSnapshot() {
    const settings = Object.fromEntries(this.registries.configuration.all().map((d) => [d.key, this.settingsService?.get(d.key)]));
    const taskTypes = this.registries.taskTypes.all().map((d) => ({ ...d.contribution, pluginId: d.pluginId }));
    const providers = Object.fromEntries(CONTRIBUTION_POINT_NAMES.map((point) => [point, (this.registries[point].all() as { key: string; pluginId: string; contribution: { title?: string } }[])
      .map((d) => ({ id: d.key, title: d.contribution.title ?? d.key, pluginId: d.pluginId }))]));
    return { settings, commands: listCommands(this.registries), plugins: this.list(), taskTypes, providers };
  }

  /** An isolated plugin's process died: its proxies go, it restarts on next use, until 3 crashes in 5 minutes disable it. */
  private isolatedCrashed(record: PluginRecord, cause: string): ShadowError {
    record.subscriptions.dispose();
    record.resetSubscriptions();
    record.activation = undefined;
    record.isolated = undefined;
    const { crashes, disabled } = recordCrash(this.options.stateDir, record.id, cause);
    const error = disabled
      ? new ShadowError('PLUGIN_DISABLED', `Plugin '${record.id}' crashed (${cause}); it crashed ${crashes} times in ${CRASH_WINDOW_MIN} minutes and is now disabled ('shadowdisk plugin enable ${record.id}' to try again)`, { details: { plugin: record.id, crashes } })
      : new ShadowError('PLUGIN_CRASHED', `Plugin '${record.id}' crashed (${cause}); it restarts on next use (crash ${crashes} of ${CRASH_LIMIT} allowed in ${CRASH_WINDOW_MIN} minutes)`, { details: { plugin: record.id, crashes } });
    record.state = disabled ? 'failed' : 'inactive';
    record.error = disabled ? { code: error.code, message: error.message } : undefined;
    void this.hooks.crashed.promise(record.info(), error).catch((e: unknown) => this.options.logSink(record.id, 'error', `A crashed tap failed: ${String(e)}`));
    return error;
  }

  private fail(record: PluginRecord, error: ShadowError): ShadowError {
    record.subscriptions.dispose();
    record.state = 'failed';
    record.error = { code: error.code, message: error.message };
    return error;
  }

  private async importMain(record: PluginRecord): Promise<PluginModule> {
    let main = resolve(record.dir, record.manifest!.main);
    // Running from sources (tests): first-party plugins have index.ts where the package says index.js.
    if (!existsSync(main) && main.endsWith('.js') && existsSync(main.replace(/\.js$/, '.ts'))) main = main.replace(/\.js$/, '.ts');
    const module = (await import(pathToFileURL(main).href)) as Partial<PluginModule>;
    if (typeof module.activate !== 'function') {
      throw new ShadowError('PLUGIN_ACTIVATION_FAILED', `Plugin '${record.id}' main module ${main} exports no activate(ctx) function`);
    }
    return module as PluginModule;
  }

  async deactivateAll(): Promise<void> {
    for (const record of this.records.values()) {
      if (record.state !== 'active') continue;
      try {
        await record.module?.deactivate?.();
        record.subscriptions.dispose();
      } catch (error) {
        // One plugin failing to shut down must not keep the others from releasing what they hold.
        this.options.logSink(record.id, 'error', `Deactivation failed: ${(error as Error).message}`);
      }
      record.resetSubscriptions();
      record.state = 'inactive';
      record.activation = undefined;
    }
  }
}
