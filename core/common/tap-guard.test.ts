import { AsyncSeriesBailHook, AsyncSeriesHook, SyncHook } from 'tapable';
import { describe, expect, it } from 'vitest';
import { guardHook, pluginHookFacade } from './tap-guard.js';

const known = (name: string) => name.startsWith('acme.');

describe('hook guard', () => {
  it('refuses unnamed taps and taps not named after a plugin', () => {
    const hook = guardHook(new SyncHook<[number]>(['n']), { hookName: 'test.sync', timeoutMs: 100, isKnownTapper: known });
    expect(() => hook.tap('stranger', () => undefined)).toThrow("A tap on test.sync is named 'stranger', which is not a plugin id");
    expect(() => hook.tap('acme.ok', () => undefined)).not.toThrow();
  });

  it('refuses callback-style async taps, which could not be timed out', () => {
    const hook = guardHook(new AsyncSeriesHook<[number]>(['n']), { hookName: 'test.async', timeoutMs: 100 });
    expect(() => hook.tapAsync('acme.cb', (_n, cb) => cb())).toThrow(/use tapPromise/);
  });

  it('fails a tap that never settles after the timeout, naming its plugin', async () => {
    const hook = guardHook(new AsyncSeriesHook<[number]>(['n']), { hookName: 'test.async', timeoutMs: 50 });
    hook.tapPromise('acme.stuck', () => new Promise(() => {}));
    await expect(hook.promise(1)).rejects.toMatchObject({ code: 'HOOK_TIMEOUT', message: expect.stringContaining("Plugin 'acme.stuck' did not finish its test.async tap within 50 ms") });
  });

  it('lets a prompt tap through with its result', async () => {
    const hook = guardHook(new AsyncSeriesBailHook<[number], string | undefined>(['n']), { hookName: 'test.bail', timeoutMs: 1000 });
    hook.tapPromise('acme.first', async () => undefined);
    hook.tapPromise('acme.veto', async (n) => (n > 1 ? 'too big' : undefined));
    expect(await hook.promise(1)).toBeUndefined();
    expect(await hook.promise(2)).toBe('too big');
  });

  it('names facade taps after the plugin and turns them off on dispose', async () => {
    const hook = guardHook(new AsyncSeriesHook<[string[]]>(['log']), { hookName: 'test.facade', timeoutMs: 1000, isKnownTapper: known });
    const facade = pluginHookFacade(hook, 'acme.logger');
    const tap = facade.tapPromise(async (log) => void log.push('called'));
    expect(hook.taps.map((t) => t.name)).toEqual(['acme.logger']);
    const log: string[] = [];
    await hook.promise(log);
    tap.dispose();
    await hook.promise(log);
    expect(log).toEqual(['called']);
  });
});
