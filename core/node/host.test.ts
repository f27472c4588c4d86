import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isShadowError, ShadowError } from '../../sdk/index.js';
import { tempStateDir } from '../../test/helpers/index.js';
import { createHost } from './host.js';
import { resolveStateDir } from './state-dir.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/plugins/', import.meta.url));
const imports = () => (globalThis as { __shadowdiskFixtureImports?: number }).__shadowdiskFixtureImports ?? 0;

async function fixtureHost(stateDir: string, tapTimeoutMs = 5000) {
  return createHost({ stateDir, extraPluginRoots: [fixtures], tapTimeoutMs, logSink: () => undefined });
}

describe('plugin host', () => {
  it('never imports a plugin whose contributions are unused, and imports it on first use', async () => {
    await using state = await tempStateDir();
    await using host = await fixtureHost(state.path);
    expect(host.listCommands().map((c) => c.id)).toContain('fixtures.lazy-probe.hello');
    await host.executeCommand('fixtures.gatekeeper.arm', { positionals: ['nobody.none'] });
    expect(host.plugins.get('fixtures.lazy-probe')?.state).toBe('inactive');
    expect(imports()).toBe(0);

    const result = await host.executeCommand('fixtures.lazy-probe.hello', { positionals: ['disk'] });
    expect(result.data).toEqual({ hello: 'disk', imports: 1 });
    expect(host.plugins.get('fixtures.lazy-probe')?.state).toBe('active');
  });

  it('refuses a plugin with a bad manifest, naming the JSON path, and keeps loading the others', async () => {
    await using state = await tempStateDir();
    await using host = await fixtureHost(state.path);
    const bad = host.plugins.get('bad-manifest');
    expect(bad?.state).toBe('refused');
    expect(bad?.error?.code).toBe('PLUGIN_MANIFEST_INVALID');
    expect(bad?.error?.message).toContain('shadowdisk.contributes.commands[2].id');
    expect(bad?.error?.message).toContain('publisher.plugin.thing');
    // None of its valid-looking commands were declared: a refused manifest contributes nothing.
    expect(host.listCommands().some((c) => c.id.startsWith('fixtures.bad-manifest'))).toBe(false);
    expect(host.plugins.get('fixtures.gatekeeper')?.state).toBe('inactive');
    expect(host.plugins.get('shadowdisk.partition')?.state).toBe('inactive');
  });

  it('lets a beforeActivate tap veto an activation and names the vetoing plugin', async () => {
    await using state = await tempStateDir();
    await using host = await fixtureHost(state.path);
    await host.executeCommand('fixtures.gatekeeper.arm', { positionals: ['fixtures.lazy-probe'] });
    const error = await host.executeCommand('fixtures.lazy-probe.hello').catch((e: unknown) => e);
    expect(isShadowError(error, 'PLUGIN_ACTIVATION_VETOED')).toBe(true);
    expect((error as ShadowError).message).toBe("Activation of plugin 'fixtures.lazy-probe' was vetoed by plugin 'fixtures.gatekeeper': 'fixtures.lazy-probe' is not allowed on this machine");
    expect(host.plugins.get('fixtures.lazy-probe')?.state).toBe('vetoed');
  });

  it('fails an activation after the timeout when an async tap never settles, naming the plugin', async () => {
    await using state = await tempStateDir();
    await using host = await fixtureHost(state.path, 300);
    await host.executeCommand('fixtures.stuck-tap.arm');
    const started = Date.now();
    const error = await host.executeCommand('fixtures.gatekeeper.arm', { positionals: ['x.y'] }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(isShadowError(error, 'HOOK_TIMEOUT')).toBe(true);
    expect((error as ShadowError).message).toContain("Plugin 'fixtures.stuck-tap' did not finish its pluginHost.beforeActivate tap within 300 ms");
    expect(host.plugins.get('fixtures.gatekeeper')?.state).toBe('failed');
  });

  it('refuses taps that are not named after a loaded plugin', async () => {
    await using state = await tempStateDir();
    await using host = await fixtureHost(state.path);
    expect(() => host.plugins.hooks.activated.tap('someone-else', () => undefined)).toThrow(/not a plugin id/);
  });

  it('keeps the hooks object frozen', async () => {
    await using state = await tempStateDir();
    await using host = await fixtureHost(state.path);
    expect(Object.isFrozen(host.plugins.hooks)).toBe(true);
  });

  it('reports an unknown command with a code the CLI maps to a usage error', async () => {
    await using state = await tempStateDir();
    await using host = await fixtureHost(state.path);
    const error = await host.executeCommand('fixtures.none.nothing').catch((e: unknown) => e);
    expect(isShadowError(error, 'COMMAND_NOT_FOUND')).toBe(true);
    expect((error as ShadowError).exitCode).toBe(2);
  });
});

describe('settings', () => {
  it('falls back to the defaults plugins declare and prefers settings.json', async () => {
    await using state = await tempStateDir();
    {
      await using host = await fixtureHost(state.path);
      expect(host.settings.get('workbench.demoSizeMiB')).toBe(256);
      expect(host.settings.get('workbench.unknown')).toBeUndefined();
    }
    await writeFile(join(state.path, 'settings.json'), JSON.stringify({ 'workbench.demoSizeMiB': 64 }));
    await using host = await fixtureHost(state.path);
    expect(host.settings.get('workbench.demoSizeMiB')).toBe(64);
  });

  it('names the settings file when it is not valid JSON', async () => {
    await using state = await tempStateDir();
    await writeFile(join(state.path, 'settings.json'), '{ "workbench.demoSizeMiB": ');
    await using host = await fixtureHost(state.path);
    expect(() => host.settings.get('workbench.demoSizeMiB')).toThrow(expect.objectContaining({ code: 'SETTING_INVALID', message: expect.stringContaining(`Settings file '${join(state.path, 'settings.json')}' is not valid JSON`) }));
  });
});

describe('state directory', () => {
  it('is /var/lib/shadowdisk unless SHADOWDISK_HOME says otherwise', () => {
    expect(resolveStateDir({})).toBe('/var/lib/shadowdisk');
    expect(resolveStateDir({ SHADOWDISK_HOME: '/srv/sd' })).toBe('/srv/sd');
    expect(resolveStateDir({ SHADOWDISK_HOME: '  ' })).toBe('/var/lib/shadowdisk');
  });
});
