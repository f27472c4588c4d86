// The one interceptor every hook gets: taps must be named after their plugin, and async taps run under a timeout.
import type { Hook } from 'tapable';
import { ShadowError, toDisposable, type Disposable, type PluginHook } from '../../sdk/index.js';

export interface TapGuardOptions {
  /** Owner and hook name for messages, e.g. `pluginHost.beforeActivate`. */
  hookName: string;
  /** Read at each call, so it can come from settings injected after the hook exists. */
  timeoutMs: number | (() => number);
  /** Whether a tap name is an acceptable plugin id (the host knows its plugins). */
  isKnownTapper?: (name: string) => boolean;
}

type AnyHook = Hook<unknown[], unknown>;
type TapFn = (...args: unknown[]) => unknown;

export function guardHook<H>(hook: H, options: TapGuardOptions): H {
  (hook as AnyHook).intercept({
    register(tap) {
      if (!tap.name || (options.isKnownTapper && !options.isKnownTapper(tap.name))) {
        throw new ShadowError('INVALID_ARGUMENT', `A tap on ${options.hookName} is named '${tap.name}', which is not a plugin id; name every tap after its plugin`);
      }
      if (tap.type === 'promise') {
        const fn = tap.fn as TapFn;
        return { ...tap, fn: (...args: unknown[]) => withTimeout(Promise.resolve(fn(...args)), tap.name, options) };
      }
      if (tap.type === 'async') {
        throw new ShadowError('INVALID_ARGUMENT', `Plugin '${tap.name}' taps ${options.hookName} with a callback; use tapPromise so the tap runs under a timeout`);
      }
      return tap;
    },
  });
  return hook;
}

function withTimeout<T>(promise: Promise<T>, tapName: string, options: TapGuardOptions): Promise<T> {
  const timeoutMs = typeof options.timeoutMs === 'function' ? options.timeoutMs() : options.timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ShadowError('HOOK_TIMEOUT', `Plugin '${tapName}' did not finish its ${options.hookName} tap within ${timeoutMs} ms; the plugin is stuck or too slow`, { details: { plugin: tapName, hook: options.hookName, timeoutMs } })),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Tappable<Args extends unknown[], R> {
  tap(options: { name: string }, fn: (...args: Args) => R): void;
  tapPromise(options: { name: string }, fn: (...args: Args) => Promise<R>): void;
}

/** What a plugin gets in place of the raw hook: taps are named after it and can be taken back. */
export function pluginHookFacade<Args extends unknown[], R>(hook: Tappable<Args, R>, pluginId: string): PluginHook<Args, R> {
  // tapable cannot remove a tap, so a disposed tap stays registered as a no-op.
  const revocable = <F extends (...args: Args) => unknown>(fn: F, idle: () => ReturnType<F>) => {
    let live = true;
    const wrapped = ((...args: Args) => (live ? fn(...args) : idle())) as F;
    return { wrapped, disposable: toDisposable(() => (live = false)) };
  };
  return {
    tap(fn): Disposable {
      const { wrapped, disposable } = revocable(fn, () => undefined as R);
      hook.tap({ name: pluginId }, wrapped);
      return disposable;
    },
    tapPromise(fn): Disposable {
      const { wrapped, disposable } = revocable(fn, () => Promise.resolve(undefined as R));
      hook.tapPromise({ name: pluginId }, wrapped);
      return disposable;
    },
  };
}
