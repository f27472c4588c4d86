// Starts the thaw watchdog in its own process group and talks to it over its stdin/stdout pipes: it learns which
// filesystems are about to be frozen before the first FIFREEZE, and thaws them if this process dies or overruns.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ShadowError } from '../../sdk/index.js';

/** The compiled script beside this module, or the TypeScript source, which Node 24 runs by stripping its types. */
function watchdogScript(): string {
  const compiled = fileURLToPath(new URL('./thaw-watchdog.js', import.meta.url));
  return existsSync(compiled) ? compiled : fileURLToPath(new URL('./thaw-watchdog.ts', import.meta.url));
}

export class ThawWatchdog implements AsyncDisposable {
  private readonly replies: ((reply: Record<string, unknown>) => void)[] = [];
  /** Mountpoints the watchdog thawed itself because a hold outlived its deadline. */
  readonly expired: string[] = [];
  private exited = false;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const reply = JSON.parse(line) as Record<string, unknown>;
      if (Array.isArray(reply['expired'])) this.expired.push(...(reply['expired'] as string[]));
      else this.replies.shift()?.(reply);
    });
    child.once('exit', () => {
      this.exited = true;
      for (const waiting of this.replies.splice(0)) waiting({ exited: true });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(): Promise<ThawWatchdog> {
    const child = spawn(process.execPath, ['--no-warnings', watchdogScript()], { detached: true, cwd: '/', stdio: ['pipe', 'pipe', 'inherit'] });
    const watchdog = new ThawWatchdog(child);
    const ready = await watchdog.next(5000);
    if (ready['ready'] !== true) throw new ShadowError('INTERNAL', 'The thaw watchdog did not start; no filesystem was frozen');
    return watchdog;
  }

  private next(timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.resolve({ exited: true });
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ timeout: true }), timeoutMs);
      this.replies.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  private async request(message: Record<string, unknown>): Promise<void> {
    const reply = this.next(5000);
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    if ((await reply)['ok'] !== true) throw new ShadowError('INTERNAL', `The thaw watchdog (pid ${this.pid}) did not acknowledge ${Object.keys(message)[0]}; not freezing without it`);
  }

  /** Before freezing: the watchdog thaws these if we die, or when `deadlineMs` passes. */
  hold(mountpoints: readonly string[], deadlineMs: number): Promise<void> {
    return this.request({ hold: mountpoints, deadlineMs });
  }

  /** After thawing: nothing is held any more. */
  release(): Promise<void> {
    return this.request({ release: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await gone;
  }
}
