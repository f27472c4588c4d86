// The backend's side of an isolated plugin: forks its process (as the unprivileged plugin user unless it declares
// block-devices, mount or native), puts proxies for what it registers into the registries, and turns its death or
// silence into errors naming it.
import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ShadowError, type CommandArgs, type CommandResult, type PluginContext, type RunContext } from '../../../sdk/index.js';
import { packageRoot } from '../first-party.js';
import type { ContributionRegistries } from '../declare-contributions.js';
import type { PluginRecord } from '../plugin-record.js';
import type { HostOptions } from '../tokens.js';
import { ensurePluginUser } from './plugin-user.js';
import { isRunMarker, shapeOf, type ActivateMessage, type ImplementationShape, type ChildMessage, type ParentMessage, type RequestMethod, type RunMarker } from './rpc-protocol.js';

const PRIVILEGED = ['block-devices', 'mount', 'native'];

export interface IsolatedPluginDeps {
  record: PluginRecord;
  registries: ContributionRegistries;
  options: HostOptions;
  snapshot: Omit<ActivateMessage, 't' | 'pluginId' | 'main' | 'pluginPath' | 'storagePath' | 'stateDir' | 'sdkDir' | 'unstableApi'>;
  executeCommand(id: string, args: Partial<CommandArgs>): Promise<CommandResult>;
  /** Another plugin's implementation of a provider point (activating that plugin). */
  resolve(point: string, id: string): Promise<unknown>;
  /** The host hooks as this plugin may tap them (taps named after it). */
  hooks: PluginContext['hooks'];
  /** The process ended without being asked to: returns the error every open call fails with. */
  onCrash(cause: string): ShadowError;
}

interface OpenCall {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  run: RunContext | undefined;
  timer: NodeJS.Timeout;
  what: string;
}

export class IsolatedPlugin {
  private readonly calls = new Map<number, OpenCall>();
  private readonly registrations = new Map<string, { dispose(): void }>();
  private nextCallId = 1;
  private stopping = false;
  private registrationError: ShadowError | undefined;
  private readonly id: string;
  readonly runsAs: string;

  private constructor(private readonly deps: IsolatedPluginDeps, private readonly child: ChildProcess, runsAs: string) {
    this.id = deps.record.id;
    this.runsAs = runsAs;
  }

  get timeoutMs(): number {
    return this.deps.options.pluginCallTimeoutMs ?? 60_000;
  }

  static async start(deps: IsolatedPluginDeps): Promise<IsolatedPlugin> {
    const { record, options } = deps;
    const root = packageRoot();
    const worker = join(root, 'dist/core/node/isolation/plugin-worker.js');
    if (!existsSync(worker)) throw new ShadowError('PLUGIN_ACTIVATION_FAILED', `Cannot start plugin '${record.id}' in its own process: ${worker} is missing; run 'npm run build:ts'`);
    const storagePath = join(options.stateDir, 'plugins', record.id);
    mkdirSync(storagePath, { recursive: true, mode: 0o700 });
    const privileged = record.manifest!.shadowdisk.permissions.some((p) => PRIVILEGED.includes(p));
    let account: { uid: number; gid: number; name: string } | undefined;
    if (!privileged && process.getuid?.() === 0) {
      account = ensurePluginUser();
      // The plugin user may pass through the state directory (not list it) to its code and its own storage.
      for (const dir of [options.stateDir, join(options.stateDir, 'plugins')]) chmodSync(dir, statSync(dir).mode & 0o7777 | 0o001);
      chownSync(storagePath, account.uid, account.gid);
    }
    const child = fork(worker, [], {
      cwd: record.dir,
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: process.env['LANG'] ?? 'C.UTF-8', SHADOWDISK_PLUGIN_ISOLATED: '1' },
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    });
    const plugin = new IsolatedPlugin(deps, child, account ? account.name : 'root');
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => options.logSink(record.id, stream === child.stderr ? 'warn' : 'info', line));
    }
    await plugin.activate({
      t: 'activate', pluginId: record.id, main: resolve(record.dir, record.manifest!.main), pluginPath: record.dir, storagePath,
      stateDir: options.stateDir, sdkDir: join(root, 'dist/sdk'), unstableApi: record.manifest!.shadowdisk.unstableApi, ...deps.snapshot,
    });
    return plugin;
  }

  private activate(message: ActivateMessage): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.stop();
        reject(new ShadowError('PLUGIN_TIMEOUT', `Plugin '${this.id}' did not finish activating within ${this.timeoutMs} ms; its process was stopped`));
      }, this.timeoutMs);
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(new ShadowError('PLUGIN_ACTIVATION_FAILED', `Plugin '${this.id}' exited while activating (${signal ? `signal ${signal}` : `exit code ${code}`})`));
      };
      this.child.once('exit', onExit);
      this.child.on('message', (m: ChildMessage) => {
        if (m.t === 'activated' || m.t === 'activate-failed') {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          this.child.on('exit', (code, signal) => this.onExit(code, signal));
          const error = m.t === 'activate-failed' ? new ShadowError(m.error.code, m.error.message) : this.registrationError;
          if (error) {
            this.stop();
            reject(error);
          } else resolvePromise();
        } else this.onMessage(m);
      });
      this.child.once('error', (error) => reject(new ShadowError('PLUGIN_ACTIVATION_FAILED', `Cannot start plugin '${this.id}': ${error.message}`)));
      this.child.send(message satisfies ParentMessage);
    });
  }

  private onMessage(m: ChildMessage): void {
    if (m.t === 'register') this.register(m.point, m.id, m);
    else if (m.t === 'tap') this.tap(m.hook, m.tapId);
    else if (m.t === 'untap') {
      this.registrations.get(`hooks:${m.tapId}`)?.dispose();
      this.registrations.delete(`hooks:${m.tapId}`);
    } else if (m.t === 'unregister') {
      this.registrations.get(`${m.point}:${m.id}`)?.dispose();
      this.registrations.delete(`${m.point}:${m.id}`);
    }
    else if (m.t === 'result' || m.t === 'error') {
      const call = this.calls.get(m.callId);
      if (!call) return;
      this.calls.delete(m.callId);
      clearTimeout(call.timer);
      if (m.t === 'result') call.resolve(m.value);
      else call.reject(new ShadowError(m.error.code, m.error.message, m.error.details ? { details: m.error.details } : {}));
    } else if (m.t === 'progress') {
      this.touch(m.callId)?.run?.progress(m.update);
    } else if (m.t === 'log') {
      const run = m.callId === null ? undefined : this.touch(m.callId)?.run;
      if (run) run.log[m.level](m.message);
      else this.deps.options.logSink(this.id, m.level, m.message);
    } else if (m.t === 'request') void this.answer(m.reqId, m.method, m.args);
  }

  private async answer(reqId: number, method: RequestMethod, args: unknown[]): Promise<void> {
    try {
      let value: unknown;
      if (method === 'executeCommand') value = await this.deps.executeCommand(String(args[0]), (args[1] ?? {}) as Partial<CommandArgs>);
      else if (method === 'describe') value = shapeOf(await this.deps.resolve(String(args[0]), String(args[1])));
      else if (method === 'invoke') value = await this.invokeFor(args[0] as string, args[1] as string, args[2] as string | null, args[3] as unknown[]);
      else value = [...this.calls.values()].find((c) => c.run?.confirm) ? await [...this.calls.values()].find((c) => c.run?.confirm)!.run!.confirm!(String(args[0])) : false;
      this.send({ t: 'response', reqId, value });
    } catch (error) {
      this.send({ t: 'response', reqId, error: ShadowError.from(error).toJSON() });
    }
  }

  /** Calls another plugin's implementation for this plugin; a RunContext marker becomes a quiet one logging as this plugin. */
  private async invokeFor(point: string, id: string, method: string | null, args: unknown[]): Promise<unknown> {
    const target = (await this.deps.resolve(point, id)) as Record<string, unknown> | ((...a: unknown[]) => unknown);
    const fn = method === null ? target : (target as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new ShadowError('CONTRIBUTION_NOT_FOUND', `${point} '${id}' has no method '${method ?? '(call)'}'`);
    const log = (level: 'info' | 'warn' | 'error') => (message: string) => this.deps.options.logSink(this.id, level, message);
    const quiet: RunContext = { signal: new AbortController().signal, progress: () => undefined, log: { info: log('info'), warn: log('warn'), error: log('error') } };
    return (fn as (...a: unknown[]) => unknown).apply(method === null ? undefined : target, args.map((a) => (isRunMarker(a) ? quiet : a)));
  }

  /** Activity on a call restarts its silence timer. */
  private touch(callId: number): OpenCall | undefined {
    const call = this.calls.get(callId);
    call?.timer.refresh();
    return call;
  }

  private register(point: string, id: string, { callable, methods, data }: ImplementationShape): void {
    const registry = this.deps.registries[point as 'commands'] as unknown as { implement(pluginId: string, key: string, impl: unknown): { dispose(): void } } | undefined;
    try {
      if (!registry) throw new ShadowError('INVALID_ARGUMENT', `Plugin '${this.id}' registers unknown contribution point '${point}'`);
      const proxy = callable
        ? (...args: unknown[]) => this.call(point, id, null, args)
        : Object.freeze({ ...data, ...Object.fromEntries(methods.map((name) => [name, (...args: unknown[]) => this.call(point, id, name, args)])) });
      this.registrations.set(`${point}:${id}`, this.deps.record.subscriptions.add(registry.implement(this.id, id, proxy)));
    } catch (error) {
      this.registrationError ??= ShadowError.from(error);
    }
  }

  private tap(name: string, tapId: string): void {
    const [owner, hookName] = name.split('.') as [string, string];
    const hook = (this.deps.hooks as unknown as Record<string, Record<string, { tapPromise(fn: (...args: unknown[]) => Promise<unknown>): { dispose(): void } } | undefined> | undefined>)[owner]?.[hookName];
    if (!hook) {
      this.registrationError ??= new ShadowError('INVALID_ARGUMENT', `Plugin '${this.id}' taps unknown hook '${name}'`);
      return;
    }
    this.registrations.set(`hooks:${tapId}`, this.deps.record.subscriptions.add(hook.tapPromise((...args) => this.call('hooks', tapId, null, args))));
  }

  /** Calls what the plugin registered; a RunContext argument crosses as a marker wired to cancel, progress and logs. */
  call(point: string, id: string, method: string | null, args: unknown[]): Promise<unknown> {
    const callId = this.nextCallId++;
    let run: RunContext | undefined;
    const wire = args.map((arg) => {
      if (!isRunContext(arg)) return arg;
      run = arg;
      const extra = arg as RunContext & { runId?: number; scheduleId?: string | null; dueAt?: Date };
      return { __run: true, canConfirm: typeof arg.confirm === 'function', ...(extra.runId !== undefined ? { runId: extra.runId, scheduleId: extra.scheduleId ?? null, dueAt: extra.dueAt?.toISOString() } : {}) } satisfies RunMarker;
    });
    const what = `${point} '${id}'${method ? `.${method}()` : ''}`;
    return new Promise((resolvePromise, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return reject(new ShadowError('PLUGIN_CRASHED', `Plugin '${this.id}' is not running`));
      const timer = setTimeout(() => {
        this.calls.delete(callId);
        reject(new ShadowError('PLUGIN_TIMEOUT', `Plugin '${this.id}' did not answer ${what} within ${this.timeoutMs} ms (no result, progress or log); its process is stopped and restarts on next use`, { details: { plugin: this.id } }));
        // A plugin that stops answering is treated like one that crashed: it is killed and counted.
        this.child.kill('SIGKILL');
      }, this.timeoutMs);
      this.calls.set(callId, { resolve: resolvePromise, reject, run, timer, what });
      run?.signal.addEventListener('abort', () => this.send({ t: 'cancel', callId }), { once: true });
      this.send({ t: 'call', callId, point, id, method, args: wire });
    });
  }

  private onExit(code: number | null, signal: string | null): void {
    if (this.stopping) return;
    const open = [...this.calls.values()];
    this.calls.clear();
    const cause = `${signal ? `killed by ${signal}` : `exit code ${code}`}${open.length ? ` while running ${open.map((c) => c.what).join(', ')}` : ''}`;
    const error = this.deps.onCrash(cause);
    for (const call of open) {
      clearTimeout(call.timer);
      call.reject(error);
    }
  }

  private send(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Ends the process on purpose (deactivation): not a crash. */
  stop(): void {
    this.stopping = true;
    for (const call of this.calls.values()) {
      clearTimeout(call.timer);
      call.reject(new ShadowError('ABORTED', `Plugin '${this.id}' was stopped`));
    }
    this.calls.clear();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function isRunContext(value: unknown): value is RunContext {
  return typeof value === 'object' && value !== null && (value as RunContext).signal instanceof AbortSignal && typeof (value as RunContext).progress === 'function';
}
