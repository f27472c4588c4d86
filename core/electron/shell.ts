// The desktop shell's logic: one instance, the backend started when none runs for the state directory, a window on
// its URL with the token, navigation kept on that origin, and the backend it started stopped when the last window closes.
// It takes the electron module as a parameter, so tests run it against a stand-in (the Electron binary is not here).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { App, BrowserWindow, BrowserWindowConstructorOptions } from 'electron';
import { ShadowError } from '../../sdk/index.js';
import { packageRoot } from '../node/first-party.js';
import { readLiveServerRecord, type ServerRecord } from '../node/server/index.js';

type ShellWindow = Pick<BrowserWindow, 'loadURL'> & { webContents: Pick<BrowserWindow['webContents'], 'on' | 'setWindowOpenHandler'> };

export interface ElectronModule {
  app: Pick<App, 'whenReady' | 'requestSingleInstanceLock' | 'quit'> & { on(event: string, listener: (...args: unknown[]) => void): unknown };
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => ShellWindow;
}

export interface ShellOptions {
  stateDir: string;
  /** The command that starts the backend: [executable, ...args]; default the project's Node running `shadowdisk serve`. */
  backendCommand?: string[];
  startTimeoutMs?: number;
}

export interface Shell {
  window: ShellWindow;
  server: ServerRecord;
  /** The backend process the shell started, or null when one was already running. */
  startedBackend: ChildProcess | null;
}

export function defaultBackendCommand(root: string): string[] {
  const node = join(root, 'node_modules', '.bin', 'node');
  return [existsSync(node) ? node : 'node', join(root, 'bin', 'shadowdisk.js'), 'serve'];
}

export async function runShell(electron: ElectronModule, options: ShellOptions): Promise<Shell | undefined> {
  const { app, BrowserWindow } = electron;
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }
  await app.whenReady();
  let startedBackend: ChildProcess | null = null;
  let server = readLiveServerRecord(options.stateDir);
  if (!server) {
    const [command, ...args] = options.backendCommand ?? defaultBackendCommand(packageRoot());
    startedBackend = spawn(command!, args, { env: { ...process.env, SHADOWDISK_HOME: options.stateDir }, stdio: 'ignore' });
    server = await waitForServer(options.stateDir, startedBackend, options.startTimeoutMs ?? 30_000);
  }
  const window = new BrowserWindow({
    width: 1280, height: 820, title: 'Shadowdisk',
    webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false },
  });
  const origin = server.origin;
  // The window shows our backend only: links elsewhere neither navigate it nor open new windows.
  window.webContents.on('will-navigate', (event: { preventDefault(): void }, url: string) => {
    if (new URL(url).origin !== origin) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  app.on('window-all-closed', () => {
    startedBackend?.kill('SIGTERM');
    app.quit();
  });
  await window.loadURL(server.url);
  return { window, server, startedBackend };
}

async function waitForServer(stateDir: string, child: ChildProcess, timeoutMs: number): Promise<ServerRecord> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new ShadowError('IO_ERROR', `The backend exited with code ${child.exitCode} before serving; run 'shadowdisk serve' to see why`);
    const record = readLiveServerRecord(stateDir);
    if (record && record.pid === child.pid) return record;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  throw new ShadowError('TIMEOUT', `The backend did not start serving within ${timeoutMs / 1000} s`);
}
