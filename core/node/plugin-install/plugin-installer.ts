// Installs, updates and uninstalls third-party plugins from package files: every check before anything is written,
// consent for the permissions, extraction into a staging folder, then one rename into place and one of the list.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { parseManifest, pluginIdOf, ShadowError, type Contributes, type PluginInfo, type PluginManifest } from '../../../sdk/index.js';
import { normaliseEntryPath } from './tar-reader.js';
import { DEFAULT_ARCHIVE_LIMITS, extractPackage, readPackageArchive, type PackageArchive } from './package-archive.js';
import { installedPluginsDir, readInstalledPlugins, writeInstalledPlugins, type InstalledPlugin } from './installed-plugins.js';

export interface InstallRequest {
  file: string;
  mode: 'install' | 'update';
  stateDir: string;
  hostVersion: string;
  /** Plugins the host has loaded now, for duplicate plugin and contribution ids. */
  loaded: readonly PluginInfo[];
  dryRun: boolean;
  yes: boolean;
  confirm?: (question: string) => Promise<boolean>;
  limits?: typeof DEFAULT_ARCHIVE_LIMITS;
}

export interface InstallPlan {
  id: string;
  name: string;
  version: string;
  permissions: string[];
  /** Permissions an update adds to what the installed version had. */
  newPermissions: string[];
  /** `native` plugins load code the host cannot confine. */
  fullTrust: boolean;
  /** Runs as root (declares block-devices, mount or native) or as the unprivileged plugin user. */
  runsAs: 'root' | 'unprivileged';
  contributions: Record<string, string[]>;
  previousVersion: string | null;
  dryRun: boolean;
  installed: boolean;
}

const PRIVILEGED = new Set(['block-devices', 'mount', 'native']);

export async function installPlugin(request: InstallRequest): Promise<InstallPlan> {
  const archive = readPackageArchive(request.file, request.limits);
  // The archive's own safety first: extracting also judges where links really land, so a dry run extracts too,
  // into staging only (outside the installed plugins' folder, removed whatever happens).
  const staging = join(request.stateDir, 'plugin-staging', randomBytes(8).toString('hex'));
  try {
    try {
      extractPackage(archive, staging);
    } catch (error) {
      throw ShadowError.from(error, 'PLUGIN_ARCHIVE_INVALID');
    }
    const manifest = manifestOf(archive);
    const id = pluginIdOf(manifest);
    const installedList = readInstalledPlugins(request.stateDir);
    const previous = installedList.find((p) => p.id === id);
    checkCompatible(archive, manifest, request);
    checkDuplicates(id, previous, request);
    const permissions = manifest.shadowdisk.permissions;
    const newPermissions = permissions.filter((p) => !(previous?.permissions ?? []).includes(p));
    const plan: InstallPlan = {
      id, name: manifest.name, version: manifest.version, permissions, newPermissions,
      fullTrust: permissions.includes('native'),
      runsAs: permissions.some((p) => PRIVILEGED.has(p)) ? 'root' : 'unprivileged',
      contributions: contributionsOf(manifest.shadowdisk.contributes),
      previousVersion: previous?.version ?? null, dryRun: request.dryRun, installed: false,
    };
    if (request.dryRun) return plan;
    const needsConsent = request.mode === 'install' || newPermissions.length > 0;
    if (needsConsent && !request.yes && !(await request.confirm?.(`${describePlan(plan)}\nInstall plugin '${id}' ${manifest.version}?`))) {
      throw new ShadowError('ABORTED', `Not installed: plugin '${id}' asks for ${permissions.length ? `permissions ${permissions.join(', ')}` : 'no permissions'}${previous ? ` (new: ${newPermissions.join(', ')})` : ''}; confirm with --yes (or answer yes on a terminal)`);
    }
    const folder = `${id}-${manifest.version}-${randomBytes(4).toString('hex')}`;
    mkdirSync(installedPluginsDir(request.stateDir), { recursive: true, mode: 0o755 });
    renameSync(staging, join(installedPluginsDir(request.stateDir), folder));
    const entry: InstalledPlugin = {
      id, name: manifest.name, version: manifest.version, folder, enabled: previous?.enabled ?? true, permissions, installedAt: new Date().toISOString(),
      ...(previous?.disabledReason ? { disabledReason: previous.disabledReason } : {}),
    };
    try {
      writeInstalledPlugins(request.stateDir, [...installedList.filter((p) => p.id !== id), entry]);
    } catch (error) {
      rmSync(join(installedPluginsDir(request.stateDir), folder), { recursive: true, force: true });
      throw ShadowError.from(error, 'IO_ERROR');
    }
    if (previous) rmSync(join(installedPluginsDir(request.stateDir), previous.folder), { recursive: true, force: true });
    return { ...plan, installed: true };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Removes the plugin from the list first (so it is never loaded half-removed), then its folder. */
export function uninstallPlugin(stateDir: string, id: string): InstalledPlugin {
  const list = readInstalledPlugins(stateDir);
  const entry = list.find((p) => p.id === id);
  if (!entry) throw new ShadowError('PLUGIN_NOT_FOUND', `No installed plugin '${id}'; run 'shadowdisk plugin list' to see the installed ones`);
  writeInstalledPlugins(stateDir, list.filter((p) => p.id !== id));
  rmSync(join(installedPluginsDir(stateDir), entry.folder), { recursive: true, force: true });
  return entry;
}

export function describePlan(plan: InstallPlan): string {
  const lines = [`Plugin ${plan.id} ${plan.version}${plan.previousVersion ? ` (replaces ${plan.previousVersion})` : ''}`];
  lines.push(`  permissions: ${plan.permissions.join(', ') || 'none'}${plan.newPermissions.length && plan.previousVersion ? ` (new: ${plan.newPermissions.join(', ')})` : ''}`);
  lines.push(`  runs as: ${plan.runsAs}${plan.fullTrust ? ' (full trust: native code)' : ''}`);
  for (const [point, ids] of Object.entries(plan.contributions)) lines.push(`  ${point}: ${ids.join(', ')}`);
  return lines.join('\n');
}

function manifestOf(archive: PackageArchive): PluginManifest {
  const source = `${archive.source}:package.json`;
  const bytes = archive.file('package.json');
  if (!bytes) throw new ShadowError('PLUGIN_MANIFEST_INVALID', `Invalid plugin manifest ${source}: the package has no package.json at its root`, { details: { source, problems: [{ path: '(root)', message: 'missing' }] } });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ShadowError('PLUGIN_MANIFEST_INVALID', `Invalid plugin manifest ${source}: not valid JSON (${(error as Error).message})`, { details: { source } });
  }
  return parseManifest(json, source);
}

function checkCompatible(archive: PackageArchive, manifest: PluginManifest, request: InstallRequest): void {
  const range = manifest.engines.shadowdisk;
  if (!semver.validRange(range) || !semver.satisfies(request.hostVersion, range, { includePrerelease: true })) {
    throw new ShadowError('PLUGIN_ENGINE_MISMATCH', `Plugin '${pluginIdOf(manifest)}' needs Shadowdisk '${range}' (engines.shadowdisk) but this is ${request.hostVersion}; install a release made for ${request.hostVersion}`, { details: { range, hostVersion: request.hostVersion } });
  }
  const main = normaliseEntryPath(manifest.main, archive.source);
  if (!archive.file(main)) {
    throw new ShadowError('PLUGIN_MANIFEST_INVALID', `Invalid plugin manifest ${archive.source}:package.json: main: '${manifest.main}' is not a file of the package`, { details: { problems: [{ path: 'main', message: 'missing from the package' }] } });
  }
  const native = archive.entries.filter((e) => e.path.endsWith('.node')).map((e) => e.path);
  if (native.length > 0 && !manifest.shadowdisk.permissions.includes('native')) {
    throw new ShadowError('PLUGIN_PERMISSION_MISSING', `Plugin '${pluginIdOf(manifest)}' ships native code (${native.slice(0, 3).join(', ')}) but its manifest does not ask for the 'native' permission (shadowdisk.permissions)`, { details: { files: native } });
  }
}

function checkDuplicates(id: string, previous: InstalledPlugin | undefined, request: InstallRequest): void {
  if (request.mode === 'install' && previous) {
    throw new ShadowError('PLUGIN_ALREADY_INSTALLED', `Plugin '${id}' ${previous.version} is already installed; use 'shadowdisk plugin update ${request.file}' to replace it`);
  }
  if (request.mode === 'update' && !previous) {
    throw new ShadowError('PLUGIN_NOT_FOUND', `Plugin '${id}' is not installed; use 'shadowdisk plugin install ${request.file}'`);
  }
  const others = request.loaded.filter((p) => p.id !== id || !previous);
  const clash = others.find((p) => p.id === id);
  if (clash) throw new ShadowError('PLUGIN_ALREADY_INSTALLED', `A plugin with id '${id}' is already loaded from ${clash.path}; plugin ids must be unique`);
  // Contribution ids start with the plugin id (parseManifest checks), so a unique plugin id keeps them unique too.
}

function contributionsOf(contributes: Contributes): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [point, items] of Object.entries(contributes)) {
    if (!Array.isArray(items) || point === 'keybindings') continue;
    const ids = (items as { id: string }[]).map((i) => i.id);
    if (ids.length > 0) out[point] = ids;
  }
  return out;
}
