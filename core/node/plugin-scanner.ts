// Finds plugin folders under the plugin roots and validates their manifests; a bad manifest refuses only that plugin.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseManifest, ShadowError, type PluginManifest } from '../../sdk/index.js';

export type ScannedPlugin =
  | { ok: true; dir: string; manifest: PluginManifest }
  | { ok: false; dir: string; name: string; error: ShadowError };

export async function scanPluginRoots(roots: readonly string[]): Promise<ScannedPlugin[]> {
  const found: ScannedPlugin[] = [];
  for (const root of roots) {
    let entries: string[];
    try {
      entries = (await readdir(root)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw ShadowError.from(error, 'IO_ERROR');
    }
    for (const entry of entries) {
      const dir = join(root, entry);
      const manifestPath = join(dir, 'package.json');
      if (!(await stat(manifestPath).catch(() => undefined))?.isFile()) continue;
      found.push(await readPlugin(dir, manifestPath, entry));
    }
  }
  return found;
}

/** Plugin folders named one by one (the installed third-party plugins); a missing folder is refused, not skipped. */
export async function scanPluginDirs(dirs: readonly string[]): Promise<ScannedPlugin[]> {
  const found: ScannedPlugin[] = [];
  for (const dir of dirs) found.push(await readPlugin(dir, join(dir, 'package.json'), basename(dir)));
  return found;
}

async function readPlugin(dir: string, manifestPath: string, name: string): Promise<ScannedPlugin> {
  try {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(manifestPath, 'utf8'));
    } catch (error) {
      throw new ShadowError('PLUGIN_MANIFEST_INVALID', `Invalid plugin manifest ${manifestPath}: not valid JSON (${(error as Error).message})`);
    }
    return { ok: true, dir, manifest: parseManifest(json, manifestPath) };
  } catch (error) {
    return { ok: false, dir, name, error: ShadowError.from(error, 'PLUGIN_MANIFEST_INVALID') };
  }
}
