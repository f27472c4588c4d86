// The Electron shell's logic against a stand-in electron module (the binary cannot be downloaded here) and a real
// backend: started when none runs and stopped with the last window, or reused; the window opens the URL with the token.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempStateDir } from '../../test/helpers/index.js';
import { startBackend } from '../../test/ui/backend-process.js';
import { runShell, type ElectronModule } from './shell.js';

/** A stand-in for the electron module: an app that is ready at once and windows that record what they were asked. */
function standIn(lockGranted = true) {
  const app = Object.assign(new EventEmitter(), { whenReady: async () => undefined, requestSingleInstanceLock: () => lockGranted, quitCalls: 0, quit() { this.quitCalls++; } });
  const windows: StandInWindow[] = [];
  class StandInWindow {
    loaded: string[] = [];
    readonly handlers = new Map<string, (...args: never[]) => void>();
    openHandler: (() => { action: string }) | undefined;
    readonly webContents = {
      on: (event: string, handler: (...args: never[]) => void) => { this.handlers.set(event, handler); return this.webContents; },
      setWindowOpenHandler: (handler: () => { action: string }) => { this.openHandler = handler; },
    };
    constructor(readonly options: { webPreferences?: Record<string, unknown> }) {
      windows.push(this);
    }
    async loadURL(url: string) {
      this.loaded.push(url);
    }
  }
  return { module: { app, BrowserWindow: StandInWindow } as unknown as ElectronModule, app, windows };
}

function navigation(window: { handlers: Map<string, (...args: never[]) => void> }, url: string): boolean {
  let prevented = false;
  (window.handlers.get('will-navigate') as unknown as (e: { preventDefault(): void }, url: string) => void)({ preventDefault: () => (prevented = true) }, url);
  return !prevented;
}

describe('Electron shell', () => {
  it('starts the backend when none runs, opens its URL with the token in a sandboxed window, and stops it with the last window', async () => {
    await using state = await tempStateDir();
    const { module, app, windows } = standIn();
    const shell = (await runShell(module, { stateDir: state.path }))!;
    try {
      expect(shell.startedBackend).not.toBeNull();
      expect(windows).toHaveLength(1);
      expect(windows[0]!.loaded).toEqual([shell.server.url]);
      expect(shell.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{40,}$/);
      expect(windows[0]!.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
      // The URL really is the backend's: it trades the token for the session cookie.
      const opened = await fetch(shell.server.url, { redirect: 'manual' });
      expect(opened.status).toBe(303);
      expect(navigation(windows[0]!, `${shell.server.origin}/anything`)).toBe(true);
      expect(navigation(windows[0]!, 'https://example.com/')).toBe(false);
      expect(windows[0]!.openHandler!()).toEqual({ action: 'deny' });

      const exited = new Promise((resolve) => shell.startedBackend!.once('exit', resolve));
      app.emit('window-all-closed');
      await exited;
      expect(app.quitCalls).toBe(1);
      expect(existsSync(join(state.path, 'web-ui', 'server.json'))).toBe(false);
    } finally {
      shell.startedBackend?.kill('SIGKILL');
    }
  });

  it('reuses a running backend and leaves it running; a second instance quits at once', async () => {
    await using state = await tempStateDir();
    await using backend = await startBackend(state.path);
    const { module, app, windows } = standIn();
    const shell = (await runShell(module, { stateDir: state.path }))!;
    expect(shell.startedBackend).toBeNull();
    expect(windows[0]!.loaded).toEqual([backend.url]);
    app.emit('window-all-closed');
    expect(backend.process.exitCode).toBeNull();
    expect((await fetch(backend.url, { redirect: 'manual' })).status).toBe(303);

    const second = standIn(false);
    expect(await runShell(second.module, { stateDir: state.path })).toBeUndefined();
    expect(second.app.quitCalls).toBe(1);
    expect(second.windows).toHaveLength(0);
  });
});
