// Runs contributed commands and looks up providers, activating the owning plugin on first use.
import type { CommandArgs, CommandInfo, CommandResult, RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import type { ContributionPointName, ContributionPointTypes } from '../common/index.js';
import type { ContributionRegistries } from './declare-contributions.js';
import type { PluginHost } from './plugin-host.js';

export function listCommands(registries: ContributionRegistries): CommandInfo[] {
  return registries.commands
    .all()
    .map((d) => ({ ...d.contribution, pluginId: d.pluginId }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

const quietRun: RunContext = {
  signal: new AbortController().signal,
  progress: () => undefined,
  log: { info: () => undefined, warn: () => undefined, error: () => undefined },
};

export async function runCommand(registries: ContributionRegistries, host: PluginHost, id: string, args: Partial<CommandArgs> = {}, run: Partial<RunContext> = {}): Promise<CommandResult> {
  const handler = await resolveImplementation(registries, host, 'commands', id);
  return handler({ positionals: args.positionals ?? [], options: args.options ?? {} }, { ...quietRun, ...run });
}

type Implementation<P extends ContributionPointName> = ContributionPointTypes[P] extends { implementation(key: string): infer I | undefined } ? I : never;

/** The implementation of a declared contribution, activating its plugin when it has not registered one yet. */
export async function resolveImplementation<P extends ContributionPointName>(registries: ContributionRegistries, host: PluginHost, point: P, id: string): Promise<Implementation<P>> {
  const registry = registries[point] as unknown as { get(key: string): { pluginId: string } | undefined; implementation(key: string): unknown };
  const declared = registry.get(id);
  if (!declared) {
    throw new ShadowError(point === 'commands' ? 'COMMAND_NOT_FOUND' : 'CONTRIBUTION_NOT_FOUND', `No plugin contributes ${point} '${id}'; run 'shadowdisk ${point === 'commands' ? 'commands' : 'plugins'}' to list what is available`);
  }
  let implementation = registry.implementation(id);
  if (implementation === undefined) {
    await host.activate(declared.pluginId);
    implementation = registry.implementation(id);
  }
  if (implementation === undefined) {
    throw new ShadowError('CONTRIBUTION_NOT_FOUND', `Plugin '${declared.pluginId}' declares ${point} '${id}' but registered no implementation when it activated`);
  }
  return implementation as Implementation<P>;
}
