// The plugin commands: each reads or changes the installed list; the host loads what it says at its next start.
import { resolve } from 'node:path';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { renderTable, ShadowError } from '../../sdk/index.js';
import { describePlan, HOST_VERSION, installPlugin, readInstalledPlugins, uninstallPlugin, updateInstalledPlugin } from '../../core/node/index.js';

export async function installCommand(ctx: PluginContext, args: CommandArgs, run: RunContext, mode: 'install' | 'update'): Promise<CommandResult> {
  const file = args.positionals[0];
  if (!file) throw new ShadowError('INVALID_ARGUMENT', `Name the package file: shadowdisk plugin ${mode} <file.tgz> (make one with 'npm pack')`);
  const plan = await installPlugin({
    file: resolve(file), mode, stateDir: ctx.stateDir, hostVersion: HOST_VERSION, loaded: ctx.plugins.list(),
    dryRun: args.options['dry-run'] === true, yes: args.options['yes'] === true,
    ...(run.confirm ? { confirm: (q: string) => run.confirm!(q) } : {}),
  });
  const verdict = plan.dryRun ? 'Dry run: nothing was installed.' : `Installed ${plan.id} ${plan.version}; it loads from the next start.`;
  return { data: plan, text: `${describePlan(plan)}\n${verdict}` };
}

export function listCommand(ctx: PluginContext): CommandResult {
  const loaded = new Map(ctx.plugins.list().map((p) => [p.id, p]));
  const plugins = readInstalledPlugins(ctx.stateDir).map((p) => ({
    id: p.id, version: p.version, enabled: p.enabled, state: p.enabled ? loaded.get(p.id)?.state ?? 'inactive' : 'disabled',
    permissions: p.permissions, disabledReason: p.disabledReason ?? null, error: loaded.get(p.id)?.error ?? null, installedAt: p.installedAt,
  }));
  const text = renderTable(['PLUGIN', 'VERSION', 'STATE', 'PERMISSIONS', 'PROBLEM'], plugins.map((p) => [p.id, p.version, p.state, p.permissions.join(', ') || null, p.disabledReason ?? p.error?.message ?? null]));
  return { data: { plugins }, text };
}

export function setEnabledCommand(ctx: PluginContext, args: CommandArgs, enabled: boolean): CommandResult {
  const id = pluginIdArgument(args, enabled ? 'enable' : 'disable');
  const entry = updateInstalledPlugin(ctx.stateDir, id, (p) => {
    const { disabledReason: _reason, crashes: _crashes, ...rest } = p;
    return enabled ? { ...rest, enabled: true } : { ...rest, enabled: false, disabledReason: 'disabled by the user' };
  });
  return { data: { id, enabled: entry.enabled }, text: `Plugin ${id} is ${enabled ? 'enabled' : 'disabled'} from the next start` };
}

export function uninstallCommand(ctx: PluginContext, args: CommandArgs): CommandResult {
  const id = pluginIdArgument(args, 'uninstall');
  const entry = uninstallPlugin(ctx.stateDir, id);
  return { data: { id, version: entry.version, uninstalled: true }, text: `Uninstalled ${id} ${entry.version}` };
}

function pluginIdArgument(args: CommandArgs, verb: string): string {
  const id = args.positionals[0];
  if (!id) throw new ShadowError('INVALID_ARGUMENT', `Name the plugin: shadowdisk plugin ${verb} <plugin-id> ('shadowdisk plugin list' shows them)`);
  return id;
}
