// The container bootstrap: binds one registry per contribution point, the plugin host and settings, and loads the plugins.
import { Container } from 'inversify';
import type { CommandArgs, CommandInfo, CommandResult, PluginInfo, RunContext } from '../../sdk/index.js';
import { CONTRIBUTION_POINT_NAMES, ContributionPoint, createContributionRegistry, type ContributionPointName } from '../common/index.js';
import type { ContributionRegistries } from './declare-contributions.js';
import { listCommands, resolveImplementation, runCommand } from './command-runner.js';
import { firstPartyPluginRoot } from './first-party.js';
import { PluginHost } from './plugin-host.js';
import { Settings } from './settings.js';
import { ensureStateDir, resolveStateDir } from './state-dir.js';
import { ContributionRegistriesToken, HostOptionsToken, type HostOptions } from './tokens.js';

export interface CreateHostOptions extends Partial<HostOptions> {
  /** Extra plugin roots after the first-party one (tests add fixtures here). */
  extraPluginRoots?: string[];
}

export class ShadowdiskHost implements AsyncDisposable {
  constructor(readonly container: Container) {}

  get plugins(): PluginHost {
    return this.container.get(PluginHost);
  }

  get settings(): Settings {
    return this.container.get(Settings);
  }

  get options(): HostOptions {
    return this.container.get<HostOptions>(HostOptionsToken);
  }

  registry<P extends ContributionPointName>(point: P): ContributionRegistries[P] {
    return this.container.get<ContributionRegistries[P]>(ContributionPoint[point]);
  }

  private get registries(): ContributionRegistries {
    return this.container.get<ContributionRegistries>(ContributionRegistriesToken);
  }

  listPlugins(): PluginInfo[] {
    return this.plugins.list();
  }

  listCommands(): CommandInfo[] {
    return listCommands(this.registries);
  }

  executeCommand(id: string, args?: Partial<CommandArgs>, run?: Partial<RunContext>): Promise<CommandResult> {
    return runCommand(this.registries, this.plugins, id, args, run);
  }

  /** A provider's implementation (task runner, filesystem handler...), activating its plugin if needed. */
  provider<P extends Exclude<ContributionPointName, 'commands' | 'keybindings' | 'views' | 'configuration'>>(point: P, id: string) {
    return resolveImplementation(this.registries, this.plugins, point, id);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.plugins.deactivateAll();
  }
}

export async function createHost(options: CreateHostOptions = {}): Promise<ShadowdiskHost> {
  const stateDir = ensureStateDir(options.stateDir ?? resolveStateDir());
  const hostOptions: HostOptions = {
    pluginRoots: options.pluginRoots ?? [firstPartyPluginRoot(), ...(options.extraPluginRoots ?? []), ...pluginPathFromEnv()],
    stateDir,
    tapTimeoutMs: options.tapTimeoutMs ?? 5000,
    pluginCallTimeoutMs: options.pluginCallTimeoutMs ?? (Number(process.env['SHADOWDISK_PLUGIN_CALL_TIMEOUT_MS']) || 60_000),
    logSink: options.logSink ?? ((pluginId, level, message) => level !== 'info' && process.stderr.write(`[${pluginId}] ${level}: ${message}\n`)),
  };
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<HostOptions>(HostOptionsToken).toConstantValue(hostOptions);
  for (const point of CONTRIBUTION_POINT_NAMES) container.bind(ContributionPoint[point]).toConstantValue(createContributionRegistry(point));
  container.bind<ContributionRegistries>(ContributionRegistriesToken).toResolvedValue(
    (...registries: unknown[]) => Object.freeze(Object.fromEntries(CONTRIBUTION_POINT_NAMES.map((p, i) => [p, registries[i]]))) as ContributionRegistries,
    CONTRIBUTION_POINT_NAMES.map((p) => ContributionPoint[p]),
  );
  container.bind(PluginHost).toSelf();
  container.bind(Settings).toSelf();
  const host = new ShadowdiskHost(container);
  host.plugins.attachSettings(host.settings);
  await host.plugins.load();
  return host;
}

/** SHADOWDISK_PLUGIN_PATH: colon-separated extra plugin roots. */
function pluginPathFromEnv(): string[] {
  return (process.env['SHADOWDISK_PLUGIN_PATH'] ?? '').split(':').filter(Boolean);
}
