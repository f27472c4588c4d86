// The installed list: which third-party plugins are installed, in which folder, enabled or not. It is the only truth
// the host loads them from, and it changes by write-then-rename, so an install or update is switched in atomically.
import { join } from 'node:path';
import { ShadowError, type PluginManifest } from '../../../sdk/index.js';
import { readStateFile, writeStateFileDurably } from '../../../sdk/node.js';

export interface InstalledPlugin {
  id: string;
  name: string;
  version: string;
  /** Folder name under installedPluginsDir(stateDir). */
  folder: string;
  enabled: boolean;
  permissions: PluginManifest['shadowdisk']['permissions'];
  installedAt: string;
  /** Why it is disabled: by the user, or after crashing too often. */
  disabledReason?: string;
  /** Recent crash instants (ISO), for the restart limit. */
  crashes?: string[];
}

interface InstalledListFile {
  version: 1;
  plugins: InstalledPlugin[];
}

export function installedPluginsDir(stateDir: string): string {
  return join(stateDir, 'installed-plugins');
}

export function installedListPath(stateDir: string): string {
  return join(stateDir, 'installed-plugins.json');
}

export function readInstalledPlugins(stateDir: string): InstalledPlugin[] {
  const path = installedListPath(stateDir);
  const text = readStateFile(path);
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as InstalledListFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.plugins)) throw new Error(`version ${String(parsed.version)} is not 1`);
    return parsed.plugins;
  } catch (error) {
    throw new ShadowError('SETTING_INVALID', `The installed plugin list '${path}' cannot be read: ${(error as Error).message}; restore it or remove it and reinstall the plugins`);
  }
}

export function writeInstalledPlugins(stateDir: string, plugins: readonly InstalledPlugin[]): void {
  writeStateFileDurably(installedListPath(stateDir), { version: 1, plugins: [...plugins].sort((a, b) => a.id.localeCompare(b.id)) } satisfies InstalledListFile);
}

/** Applies `change` to one plugin's entry and writes the list; returns the new entry. */
export function updateInstalledPlugin(stateDir: string, id: string, change: (entry: InstalledPlugin) => InstalledPlugin): InstalledPlugin {
  const list = readInstalledPlugins(stateDir);
  const index = list.findIndex((p) => p.id === id);
  if (index === -1) throw new ShadowError('PLUGIN_NOT_FOUND', `No installed plugin '${id}'; run 'shadowdisk plugin list' to see the installed ones`);
  list[index] = change(list[index]!);
  writeInstalledPlugins(stateDir, list);
  return list[index]!;
}

/** Folders of the enabled installed plugins, for the host to load. */
export function enabledPluginDirs(stateDir: string): string[] {
  return readInstalledPlugins(stateDir).filter((p) => p.enabled).map((p) => join(installedPluginsDir(stateDir), p.folder));
}
