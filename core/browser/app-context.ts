// What every screen shares: the RPC client, the command list, the selected disk, toasts and a refresh counter.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { CommandInfo, CommandOutcome, JobEvent, RpcClient } from './rpc-client.js';
import type { WhenContext } from './when-clause.js';

export type Screen = 'disks' | 'backup' | 'images' | 'schedules' | 'plugins' | 'views' | 'settings' | 'status' | 'script';

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export interface AppApi {
  rpc: RpcClient;
  commands: CommandInfo[];
  screen: Screen;
  setScreen(screen: Screen): void;
  selectedDisk: string | null;
  selectDisk(path: string | null): void;
  /** Bumped after any command ran, so screens reload what they show. */
  revision: number;
  /** Runs a command by id with CLI words; errors become a toast and are rethrown. */
  run<T = unknown>(id: string, argv?: string[], onEvent?: (event: JobEvent) => void): Promise<CommandOutcome<T>>;
  toast(kind: Toast['kind'], text: string): void;
  /** Reloads what the screens show (disks appear and go outside the UI too). */
  refresh(): void;
  openPalette(commandId?: string): void;
  whenContext: WhenContext;
}

export const AppContext = createContext<AppApi | null>(null);

export function useApp(): AppApi {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside the app');
  return app;
}

/** The id of the command whose CLI verbs are `cli`, for screens that drive features by their CLI name. */
export function commandId(commands: readonly CommandInfo[], cli: string): string {
  const command = commands.find((c) => c.cli === cli);
  if (!command) throw new Error(`No plugin contributes the command 'shadowdisk ${cli}'`);
  return command.id;
}
