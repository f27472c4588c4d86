// Third-party plugin packages: the safe tar reader, the installer and the installed list.
export { installPlugin, uninstallPlugin, describePlan, type InstallPlan, type InstallRequest } from './plugin-installer.js';
export { readInstalledPlugins, updateInstalledPlugin, installedPluginsDir, installedListPath, enabledPluginDirs, type InstalledPlugin } from './installed-plugins.js';
export { DEFAULT_ARCHIVE_LIMITS } from './package-archive.js';
