// `shadowdisk commands` (the palette) and `shadowdisk plugins`, from the host's registries.
import type { CommandResult, PluginContext } from '../../sdk/index.js';
import { renderTable } from '../../sdk/index.js';

export function commandsCommand(ctx: PluginContext): CommandResult {
  const commands = ctx.commands.list().map((c) => ({
    id: c.id, title: c.title, category: c.category ?? null, plugin: c.pluginId, cli: c.cli ?? null, usage: c.usage ?? null, description: c.description ?? null,
  }));
  const text = renderTable(
    ['CATEGORY', 'TITLE', 'CLI', 'ID', 'PLUGIN'],
    commands.map((c) => [c.category, c.title, c.cli ? `shadowdisk ${c.cli}${c.usage ? ` ${c.usage}` : ''}` : null, c.id, c.plugin]),
  );
  return { data: { commands }, text };
}

export function pluginsCommand(ctx: PluginContext): CommandResult {
  const plugins = ctx.plugins.list();
  const text = renderTable(
    ['PLUGIN', 'VERSION', 'STATE', 'CONTRIBUTES', 'PROBLEM'],
    plugins.map((p) => [
      p.id, p.version || null, p.state,
      Object.entries(p.contributions).map(([point, ids]) => `${ids.length} ${point}`).join(', ') || null,
      p.error?.message ?? null,
    ]),
  );
  return { data: { plugins }, text };
}
