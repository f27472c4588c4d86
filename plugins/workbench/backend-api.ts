// The web server's view of the backend, built from a plugin context: commands run through the same registry as the
// CLI; views, keybindings and settings schemas come from the loaded plugins' manifests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type PluginContext, type PluginManifest } from '../../sdk/index.js';
import type { BackendApi, KeybindingInfo, SettingInfo, ViewInfo } from '../../core/node/server/index.js';

export function backendApiOf(ctx: PluginContext): BackendApi {
  const manifests = new Map<string, PluginManifest>();
  const loaded = (): { pluginId: string; manifest: PluginManifest }[] => ctx.plugins.list()
    .filter((p) => p.state !== 'refused' && p.path)
    .flatMap((p) => {
      let manifest = manifests.get(p.path);
      if (!manifest) {
        try {
          manifest = parseManifest(JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8')), p.path);
        } catch {
          return [];
        }
        manifests.set(p.path, manifest);
      }
      return [{ pluginId: p.id, manifest }];
    });
  return {
    listCommands: () => ctx.commands.list(),
    executeCommand: (id, args, run) => ctx.commands.executeCommand(id, args, run),
    views: (): ViewInfo[] => loaded().flatMap(({ pluginId, manifest }) => manifest.shadowdisk.contributes.views.map((v) => ({ ...v, pluginId }))),
    keybindings: (): KeybindingInfo[] => loaded().flatMap(({ pluginId, manifest }) => manifest.shadowdisk.contributes.keybindings.map((k) => ({ ...k, pluginId }))),
    settings: (): SettingInfo[] => loaded().flatMap(({ pluginId, manifest }) => {
      const configuration = manifest.shadowdisk.contributes.configuration;
      return Object.entries(configuration?.properties ?? {}).map(([key, schema]) => ({
        key, pluginId, section: configuration?.title ?? manifest.shadowdisk.displayName ?? pluginId, schema, value: ctx.settings.get(key) ?? null,
      }));
    }),
  };
}
