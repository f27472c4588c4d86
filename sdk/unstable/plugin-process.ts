// Which process a plugin's code runs in: the backend's own (first-party plugins) or its own isolated one, and as whom.

export interface PluginProcessInfo {
  /** True in the process the backend forked for an installed plugin. */
  isolated: boolean;
  pid: number;
  uid: number | null;
}

/** The backend sets SHADOWDISK_PLUGIN_ISOLATED=1 in the environment of each isolated plugin's process. */
export function pluginProcess(): PluginProcessInfo {
  return { isolated: process.env['SHADOWDISK_PLUGIN_ISOLATED'] === '1', pid: process.pid, uid: process.getuid?.() ?? null };
}
