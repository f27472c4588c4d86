// The app shell: navigation, the screen, the command palette (Ctrl+Shift+P), running jobs and toasts.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AppContext, type AppApi, type Screen, type Toast } from './app-context.js';
import { BackupScreen } from './backup-screen.js';
import { DisksScreen } from './disks-screen.js';
import { keyLabel } from './format.js';
import { ImagesScreen } from './images-screen.js';
import { JobBar } from './job-bar.js';
import { CommandPalette } from './palette.js';
import { PluginsScreen } from './plugins-screen.js';
import type { CommandInfo, JobEvent, RpcClient } from './rpc-client.js';
import { SchedulesScreen } from './schedules-screen.js';
import { ScriptScreen } from './script-screen.js';
import { SettingsScreen } from './settings-screen.js';
import { StatusScreen } from './status-screen.js';
import { ViewsScreen } from './views-screen.js';

const SCREENS: { id: Screen; label: string }[] = [
  { id: 'disks', label: 'Disks' },
  { id: 'backup', label: 'Backup & restore' },
  { id: 'images', label: 'Images' },
  { id: 'status', label: 'Hot & shadow copies' },
  { id: 'schedules', label: 'Schedules' },
  { id: 'plugins', label: 'Plugins' },
  { id: 'views', label: 'Views' },
  { id: 'script', label: 'Script' },
  { id: 'settings', label: 'Settings' },
];

export function App({ rpc, commands }: { rpc: RpcClient; commands: CommandInfo[] }) {
  const [screen, setScreen] = useState<Screen>('disks');
  const [selectedDisk, selectDisk] = useState<string | null>(null);
  const [revision, setRevision] = useState(0);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [palette, setPalette] = useState<{ open: boolean; commandId?: string }>({ open: false });
  const [runningJobs, setRunningJobs] = useState(0);
  const nextToast = useRef(1);
  const paletteKey = commands.find((c) => c.id === 'shadowdisk.workbench.commands')?.keybinding ?? 'ctrl+shift+p';

  const app: AppApi = useMemo(() => ({
    rpc, commands, screen, setScreen, selectedDisk, selectDisk, revision,
    toast: (kind, text) => {
      const id = nextToast.current++;
      setToasts((t) => [...t.slice(-2), { id, kind, text: kind === 'info' ? text.split('\n').slice(0, 4).join('\n') : text }]);
      setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 12_000 : 5000);
    },
    run: async (id, argv = [], onEvent?: (event: JobEvent) => void) => {
      setRunningJobs((n) => n + 1);
      try {
        return await rpc.execute(id, argv, onEvent);
      } catch (error) {
        app.toast('error', (error as Error).message);
        throw error;
      } finally {
        setRunningJobs((n) => n - 1);
        setRevision((r) => r + 1);
      }
    },
    refresh: () => setRevision((r) => r + 1),
    openPalette: (commandId) => setPalette({ open: true, ...(commandId ? { commandId } : {}) }),
    whenContext: { screen, diskSelected: selectedDisk !== null, selectedDisk, jobRunning: runningJobs > 0 },
  }), [rpc, commands, screen, selectedDisk, revision, runningJobs]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (matchesKey(e, paletteKey)) {
        e.preventDefault();
        setPalette({ open: true });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [paletteKey]);

  return (
    <AppContext.Provider value={app}>
      <div class="shell">
        <header class="topbar">
          <span class="brand">Shadowdisk</span>
          <button class="palette-button" onClick={() => setPalette({ open: true })} title="Command palette">
            Search commands <kbd>{keyLabel(paletteKey)}</kbd>
          </button>
        </header>
        <nav class="sidebar" aria-label="Screens">
          {SCREENS.map((s) => (
            <button key={s.id} class={s.id === screen ? 'nav active' : 'nav'} aria-current={s.id === screen ? 'page' : undefined} onClick={() => setScreen(s.id)}>{s.label}</button>
          ))}
        </nav>
        <main class="content">
          {screen === 'disks' && <DisksScreen />}
          {screen === 'backup' && <BackupScreen />}
          {screen === 'images' && <ImagesScreen />}
          {screen === 'status' && <StatusScreen />}
          {screen === 'schedules' && <SchedulesScreen />}
          {screen === 'plugins' && <PluginsScreen />}
          {screen === 'views' && <ViewsScreen />}
          {screen === 'script' && <ScriptScreen />}
          {screen === 'settings' && <SettingsScreen />}
        </main>
        <JobBar />
      </div>
      <div class="toasts" aria-live="polite">
        {toasts.map((t) => <div key={t.id} class={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>{t.text}</div>)}
      </div>
      {palette.open && <CommandPalette {...(palette.commandId ? { initialCommandId: palette.commandId } : {})} onClose={() => setPalette({ open: false })} />}
    </AppContext.Provider>
  );
}

/** `ctrl+shift+p` against a keydown event. */
export function matchesKey(e: KeyboardEvent, key: string): boolean {
  const parts = key.toLowerCase().split('+');
  const main = parts[parts.length - 1]!;
  return e.ctrlKey === parts.includes('ctrl') && e.shiftKey === parts.includes('shift') && e.altKey === parts.includes('alt') && e.key.toLowerCase() === main;
}
