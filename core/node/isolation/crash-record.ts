// Crashes of installed plugins, kept in the installed list so the limit holds across CLI runs: 3 in 5 minutes disable it.
import { readInstalledPlugins, updateInstalledPlugin } from '../plugin-install/installed-plugins.js';

export const CRASH_LIMIT = 3;
export const CRASH_WINDOW_MIN = 5;

export function recordCrash(stateDir: string, pluginId: string, cause: string, now = Date.now()): { crashes: number; disabled: boolean } {
  let crashes = 1;
  let disabled = false;
  // A plugin uninstalled while it ran has no entry left to count in; its crash still fails the open calls.
  if (!readInstalledPlugins(stateDir).some((p) => p.id === pluginId)) return { crashes, disabled };
  updateInstalledPlugin(stateDir, pluginId, (entry) => {
    const recent = [...(entry.crashes ?? []), new Date(now).toISOString()].filter((t) => now - Date.parse(t) < CRASH_WINDOW_MIN * 60_000);
    crashes = recent.length;
    disabled = crashes >= CRASH_LIMIT;
    return disabled
      ? { ...entry, crashes: recent, enabled: false, disabledReason: `crashed ${crashes} times in ${CRASH_WINDOW_MIN} minutes (last: ${cause})` }
      : { ...entry, crashes: recent };
  });
  return { crashes, disabled };
}
