// The entry of an isolated plugin's process: resolves `@shadowdisk/sdk` to the host's SDK, activates the plugin with a
// PluginContext whose registrations and calls go over IPC, and serves the backend's calls until it is killed.
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DisposableStore, ShadowError, toDisposable, type CommandArgs, type CommandResult, type PluginContext, type PluginModule, type RunContext } from '../../../sdk/index.js';
import { isRunMarker, shapeOf, type ActivateMessage, type ChildMessage, type ImplementationShape, type ParentMessage, type RequestMethod } from './rpc-protocol.js';

const send = (message: ChildMessage): void => void process.send!(message);
const implementations = new Map<string, unknown>();
const running = new Map<number, AbortController>();
const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
let nextReq = 1;

function request(method: RequestMethod, args: unknown[]): Promise<unknown> {
  const reqId = nextReq++;
  return new Promise((resolve, reject) => {
    pending.set(reqId, { resolve, reject });
    send({ t: 'request', reqId, method, args });
  });
}

function unsupported(what: string): never {
  throw new ShadowError('UNSUPPORTED', `${what} is not available to a plugin running in its own process yet`);
}

function contextFor(m: ActivateMessage, subscriptions: DisposableStore): PluginContext {
  const log = (level: 'info' | 'warn' | 'error') => (message: string) => send({ t: 'log', callId: null, level, message });
  const register = (point: string, id: string, implementation: unknown) => {
    implementations.set(`${point}:${id}`, implementation);
    send({ t: 'register', point, id, ...shapeOf(implementation) });
    return subscriptions.add(toDisposable(() => {
      implementations.delete(`${point}:${id}`);
      send({ t: 'unregister', point, id });
    }));
  };
  let nextTap = 1;
  // Every tap crosses as an async one: the backend awaits this process's answer either way.
  const hook = (name: string) => {
    const tap = (fn: (...args: unknown[]) => unknown) => {
      const tapId = `${name}#${nextTap++}`;
      implementations.set(`hooks:${tapId}`, fn);
      send({ t: 'tap', hook: name, tapId });
      return subscriptions.add(toDisposable(() => {
        implementations.delete(`hooks:${tapId}`);
        send({ t: 'untap', tapId });
      }));
    };
    return { tap, tapPromise: tap };
  };
  return {
    pluginId: m.pluginId, pluginPath: m.pluginPath, storagePath: m.storagePath, stateDir: m.stateDir,
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    subscriptions: { push: (...items) => items.forEach((i) => subscriptions.add(i)) },
    commands: {
      registerCommand: (id, handler) => register('commands', id, handler),
      executeCommand: (id: string, args?: Partial<CommandArgs>) => request('executeCommand', [id, args ?? {}]) as Promise<CommandResult>,
      list: () => m.commands,
    },
    register: (point, id, implementation) => register(point, id, implementation),
    plugins: { list: () => m.plugins },
    providers: { list: (point) => m.providers[point] ?? [], get: (point, id) => remoteImplementation(point, id) as never },
    settings: { get: <T>(key: string) => m.settings[key] as T | undefined },
    hooks: {
      pluginHost: { beforeActivate: hook('pluginHost.beforeActivate'), activated: hook('pluginHost.activated'), crashed: hook('pluginHost.crashed') },
      scheduler: { beforeRun: hook('scheduler.beforeRun'), afterRun: hook('scheduler.afterRun') },
    } as PluginContext['hooks'],
    taskTypes: {
      list: () => m.taskTypes,
      resolve: (id) => remoteImplementation('taskTypes', id) as never,
      beforeRun: () => unsupported('Calling the scheduler hooks'),
      afterRun: () => unsupported('Calling the scheduler hooks'),
    },
  };
}

/** Another plugin's implementation, served by the backend: every call is an `invoke` request, so every method is async. */
async function remoteImplementation(point: string, id: string): Promise<unknown> {
  const shape = (await request('describe', [point, id])) as ImplementationShape;
  const invoke = (method: string | null) => (...args: unknown[]) => request('invoke', [point, id, method, args.map(toWire)]);
  if (shape.callable) return invoke(null);
  return Object.freeze({ ...shape.data, ...Object.fromEntries(shape.methods.map((name) => [name, invoke(name)])) });
}

/** A RunContext cannot cross: the backend gives the callee its own, quiet one. */
function toWire(arg: unknown): unknown {
  const run = arg as RunContext | null;
  return typeof run === 'object' && run !== null && run.signal instanceof AbortSignal && typeof run.progress === 'function' ? { __run: true, canConfirm: false } : arg;
}

function runContextFor(callId: number, marker: Record<string, unknown>): RunContext {
  const controller = new AbortController();
  running.set(callId, controller);
  const log = (level: 'info' | 'warn' | 'error') => (message: string) => send({ t: 'log', callId, level, message });
  return {
    ...(marker['runId'] !== undefined ? { runId: marker['runId'], scheduleId: marker['scheduleId'], dueAt: new Date(String(marker['dueAt'])) } : {}),
    signal: controller.signal,
    progress: (update) => send({ t: 'progress', callId, update }),
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    ...(marker['canConfirm'] ? { confirm: async (question: string) => (await request('confirm', [question])) === true } : {}),
  } as RunContext;
}

async function serveCall(message: Extract<ParentMessage, { t: 'call' }>): Promise<void> {
  try {
    const target = implementations.get(`${message.point}:${message.id}`) as Record<string, unknown> | ((...a: unknown[]) => unknown) | undefined;
    if (target === undefined) throw new ShadowError('CONTRIBUTION_NOT_FOUND', `The plugin registered no ${message.point} '${message.id}'`);
    const args = message.args.map((a) => (isRunMarker(a) ? runContextFor(message.callId, a as unknown as Record<string, unknown>) : a));
    const fn = message.method === null ? (target as (...a: unknown[]) => unknown) : ((target as Record<string, unknown>)[message.method] as (...a: unknown[]) => unknown);
    const value = await fn.apply(message.method === null ? undefined : target, args);
    send({ t: 'result', callId: message.callId, value });
  } catch (error) {
    send({ t: 'error', callId: message.callId, error: ShadowError.from(error).toJSON() });
  } finally {
    running.delete(message.callId);
  }
}

async function activate(message: ActivateMessage): Promise<void> {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === '@shadowdisk/sdk') return nextResolve(pathToFileURL(join(message.sdkDir, 'index.js')).href, context);
      if (specifier === '@shadowdisk/sdk/unstable' && !message.unstableApi) {
        throw new ShadowError('PLUGIN_PERMISSION_MISSING', `Plugin '${message.pluginId}' imports @shadowdisk/sdk/unstable but its manifest does not opt in; set shadowdisk.unstableApi to true`);
      }
      if (specifier.startsWith('@shadowdisk/sdk/')) {
        const sub = join(message.sdkDir, specifier.slice('@shadowdisk/sdk/'.length));
        return nextResolve(pathToFileURL(existsSync(join(sub, 'index.js')) ? join(sub, 'index.js') : `${sub}.js`).href, context);
      }
      return nextResolve(specifier, context);
    },
  });
  try {
    const module = (await import(pathToFileURL(message.main).href)) as Partial<PluginModule>;
    if (typeof module.activate !== 'function') throw new ShadowError('PLUGIN_ACTIVATION_FAILED', `Plugin '${message.pluginId}' main module ${message.main} exports no activate(ctx) function`);
    await module.activate(contextFor(message, new DisposableStore()));
    send({ t: 'activated' });
  } catch (error) {
    send({ t: 'activate-failed', error: ShadowError.from(error, 'PLUGIN_ACTIVATION_FAILED').toJSON() });
  }
}

process.on('message', (message: ParentMessage) => {
  if (message.t === 'activate') void activate(message);
  else if (message.t === 'call') void serveCall(message);
  else if (message.t === 'cancel') running.get(message.callId)?.abort(new ShadowError('ABORTED', 'The call was cancelled'));
  else if (message.t === 'response') {
    const waiter = pending.get(message.reqId);
    pending.delete(message.reqId);
    if (message.error) waiter?.reject(new ShadowError(message.error.code, message.error.message, message.error.details ? { details: message.error.details } : {}));
    else waiter?.resolve(message.value);
  }
});
// The backend going away ends the plugin too.
process.on('disconnect', () => process.exit(0));
