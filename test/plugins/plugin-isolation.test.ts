import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost } from '../../core/node/index.js';
import { isShadowError } from '../../sdk/index.js';
import { loopDevice, run, sparseImage } from '../helpers/index.js';
import { cliJson, gnuTar, manifestOf, traversableStateDir, type PluginSource, usePluginTestFolders } from './plugin-packages.js';

const folders = usePluginTestFolders({ SHADOWDISK_PLUGIN_CALL_TIMEOUT_MS: '1500' });
const cli = cliJson;

const command = (plugin: string, name: string, cli: string) => ({ id: `acme.${plugin}.${name}`, title: `${plugin} ${name}`, cli });

const plugins: PluginSource[] = [
  {
    name: 'worker',
    contributes: {
      commands: [command('worker', 'whoami', 'work whoami'), command('worker', 'slow', 'work slow'), command('worker', 'provider', 'work provider')],
      taskTypes: [{ id: 'acme.worker.stamp', title: 'Write a stamp file', timeoutSec: 10, paramsSchema: { type: 'object', properties: { dir: { type: 'string', pattern: '^/' }, busy: { type: 'boolean', default: false } }, required: ['dir'] } }],
    },
    files: {
      'index.js': `import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { ShadowError } from '@shadowdisk/sdk';
const errno = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code; } };
export function activate(ctx) {
  ctx.commands.registerCommand('acme.worker.whoami', (args) => ({ data: {
    uid: process.getuid(), pid: process.pid,
    shadow: errno(() => readFileSync('/etc/shadow')), blockDevice: errno(() => openSync(args.positionals[0], 'r')),
    sdk: new ShadowError('NOT_FOUND', 'x').exitCode,
  } }));
  ctx.register('taskTypes', 'acme.worker.stamp', async (params, run) => {
    const text = 'run ' + run.runId + ' of ' + run.scheduleId + ' due ' + run.dueAt.toISOString();
    writeFileSync(params.dir + '/stamp-' + run.runId, text);
    run.log.info('stamped');
    return { bytes: text.length };
  });
  // Another plugin's provider, through the backend: the partition plugin's ext handler.
  ctx.commands.registerCommand('acme.worker.provider', async () => {
    const ext = await ctx.providers.get('filesystems', 'shadowdisk.partition.ext');
    return { data: { listed: ctx.providers.list('filesystems').some((p) => p.id === 'shadowdisk.partition.ext'), types: ext.types, labelLimit: await ext.labelLimit('ext4') } };
  });
  // Hook taps cross too: a busy run is vetoed, each outcome is written down.
  ctx.subscriptions.push(ctx.hooks.scheduler.beforeRun.tapPromise(async (run) => (run.params.busy ? 'the stamp folder is busy' : undefined)));
  ctx.subscriptions.push(ctx.hooks.scheduler.afterRun.tapPromise(async (run, outcome) => {
    writeFileSync(run.params.dir + '/outcome-' + run.runId, outcome.status);
  }));
  // Longer than the call timeout, but alive: progress keeps the call open.
  ctx.commands.registerCommand('acme.worker.slow', async (args, run) => {
    for (let i = 1; i <= 6; i++) { await new Promise((r) => setTimeout(r, 500)); run.progress({ phase: 'slow', done: i, total: 6 }); }
    return { data: { done: 6 } };
  });
}
`,
    },
  },
  {
    name: 'crasher',
    // Ships a native addon (compiled by the test), so it declares 'native' and runs as root, full trust.
    permissions: ['native'],
    contributes: { commands: [command('crasher', 'exit', 'crash exit'), command('crasher', 'throw', 'crash throw'), command('crasher', 'segv', 'crash segv')] },
    files: {
      'index.js': `import { createRequire } from 'node:module';
export function activate(ctx) {
  ctx.commands.registerCommand('acme.crasher.exit', () => process.exit(3));
  ctx.commands.registerCommand('acme.crasher.throw', () => new Promise(() => setTimeout(() => { throw new Error('uncaught on purpose'); })));
  // A real segmentation fault in native code: the addon writes through a null pointer.
  ctx.commands.registerCommand('acme.crasher.segv', () => createRequire(import.meta.url)('./crash.node').crash());
}
`,
    },
  },
  {
    name: 'hanger',
    contributes: { commands: [command('hanger', 'hang', 'hang')] },
    files: { 'index.js': `export function activate(ctx) {\n  ctx.commands.registerCommand('acme.hanger.hang', () => new Promise(() => undefined));\n}\n` },
  },
];

/** A Node-API addon whose crash() writes through a null pointer. */
const CRASH_ADDON = `#include <node_api.h>
static napi_value Crash(napi_env env, napi_callback_info info) {
  volatile int *nowhere = 0;
  *nowhere = 42;
  return NULL;
}
NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "crash", NAPI_AUTO_LENGTH, Crash, NULL, &fn);
  napi_set_named_property(env, exports, "crash", fn);
  return exports;
}
`;

async function installAll(): Promise<void> {
  for (const source of plugins) {
    const cwd = join(folders.work.path, source.name);
    await mkdir(join(cwd, 'package'), { recursive: true });
    await writeFile(join(cwd, 'package', 'package.json'), JSON.stringify(manifestOf(source)));
    for (const [path, text] of Object.entries(source.files)) await writeFile(join(cwd, 'package', path), text);
    if (source.name === 'crasher') {
      await writeFile(join(cwd, 'crash.c'), CRASH_ADDON);
      await run('cc', ['-shared', '-fPIC', '-O0', '-I/usr/include/node', join(cwd, 'crash.c'), '-o', join(cwd, 'package', 'crash.node')]);
    }
    const file = await gnuTar(cwd, join(folders.work.path, `${source.name}.tgz`), ['package']);
    const native = source.name === 'crasher';
    expect((await cli('plugin', 'install', file, '--yes')).json).toMatchObject({ installed: true, runsAs: native ? 'root' : 'unprivileged', fullTrust: native });
  }
}

describe('isolated plugins', () => {
  it('run in their own process as the unprivileged plugin user, which cannot read /etc/shadow or open a block device', async () => {
    await installAll();
    await using image = await sparseImage(8 * 1024 * 1024);
    await using loop = await loopDevice(image.path);
    const { code, json } = await cli('work', 'whoami', loop.path);
    expect(code).toBe(0);
    const { stdout: uid } = await run('id', ['-u', 'shadowdisk-plugin']);
    expect(json).toEqual({ uid: Number(uid.trim()), pid: expect.any(Number), shadow: 'EACCES', blockDevice: 'EACCES', sdk: 3 });
    expect(json['pid']).not.toBe(process.pid);
    // Silence, not length, times a call out: progress every 500 ms keeps a 3 s call alive under a 1.5 s limit.
    expect((await cli('work', 'slow')).json).toEqual({ done: 6 });
    expect((await cli('work', 'provider')).json).toEqual({ listed: true, types: ['ext2', 'ext3', 'ext4'], labelLimit: 16 });
  });

  it("run their task types and their scheduler hook taps like any plugin's", async () => {
    await installAll();
    // A folder the plugin user may write to (the test run's scratch folder is private to root).
    await using stamps = await traversableStateDir();
    const out = stamps.path;
    await chmod(out, 0o777);
    expect((await cli('schedule', 'add', 'nightly', '--task', 'acme.worker.stamp', '--cron', '0 3 * * *', '--params', JSON.stringify({ dir: out }))).code).toBe(0);
    const { code, json } = await cli('schedule', 'run-now', 'nightly');
    expect(code, JSON.stringify(json)).toBe(0);
    const runId = (json as { id: number }).id;
    const stamp = join(out, `stamp-${runId}`);
    expect(await readFile(stamp, 'utf8')).toMatch(new RegExp(`^run ${runId} of nightly due `));
    const { stdout: uid } = await run('id', ['-u', 'shadowdisk-plugin']);
    expect((await stat(stamp)).uid).toBe(Number(uid.trim()));
    const history = (await cli('schedule', 'history', 'nightly')).json as { runs: { status: string; bytes: number }[] };
    expect(history.runs[0]).toMatchObject({ status: 'succeeded', bytes: expect.any(Number) });
    expect(await readFile(join(out, `outcome-${runId}`), 'utf8')).toBe('succeeded');

    // The plugin's own beforeRun tap, in its process, vetoes a busy run, named after it.
    expect((await cli('schedule', 'add', 'busy', '--task', 'acme.worker.stamp', '--cron', '0 4 * * *', '--params', JSON.stringify({ dir: out, busy: true }))).code).toBe(0);
    const vetoed = await cli('schedule', 'run-now', 'busy');
    expect(vetoed.json.error).toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining("Run vetoed by plugin 'acme.worker': the stamp folder is busy") });
    const vetoedId = ((vetoed.json.error as unknown as { details: { run: { id: number } } }).details.run.id);
    expect(await readFile(join(out, `outcome-${vetoedId}`), 'utf8')).toBe('vetoed');
    expect(existsSync(join(out, `stamp-${vetoedId}`))).toBe(false);
  });

  it('keeps the backend serving while a plugin crashes, then disables it after 3 crashes and names it', async () => {
    await installAll();
    await using host = await createHost({ logSink: () => undefined });
    const causes = ['acme.crasher.exit', 'acme.crasher.throw', 'acme.crasher.segv'];
    const expected = [/exit code 3 while running commands 'acme\.crasher\.exit'.*crash 1 of 3/, /exit code 1 while running commands 'acme\.crasher\.throw'.*crash 2 of 3/, /killed by SIGSEGV.*crashed 3 times in 5 minutes and is now disabled/];
    for (const [i, id] of causes.entries()) {
      const error = await host.executeCommand(id).catch((e: unknown) => e);
      expect(isShadowError(error, i < 2 ? 'PLUGIN_CRASHED' : 'PLUGIN_DISABLED'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(expected[i]!);
      // Other plugins, isolated or not, keep answering in the same backend.
      expect((await host.executeCommand('acme.worker.whoami', { positionals: ['/dev/null'] })).data).toMatchObject({ blockDevice: 'ok' });
      expect((await host.executeCommand('shadowdisk.workbench.commands')).data).toBeTruthy();
    }
    const again = await host.executeCommand('acme.crasher.exit').catch((e: unknown) => e);
    expect(isShadowError(again, 'PLUGIN_DISABLED')).toBe(true);
    expect(host.plugins.get('acme.crasher')).toMatchObject({ state: 'failed', error: { code: 'PLUGIN_DISABLED' } });

    // The next CLI run names it as disabled and loads none of its commands.
    const list = (await cli('plugin', 'list')).json['plugins'] as { id: string; state: string; disabledReason: string | null }[];
    expect(list.find((p) => p.id === 'acme.crasher')).toMatchObject({ state: 'disabled', disabledReason: expect.stringMatching(/^crashed 3 times in 5 minutes \(last: killed by SIGSEGV/) });
    expect((await cli('crash', 'exit')).json.error?.code).toBe('COMMAND_NOT_FOUND');
    expect((await cli('plugin', 'enable', 'acme.crasher')).code).toBe(0);
    expect((await cli('crash', 'exit')).json.error).toMatchObject({ code: 'PLUGIN_CRASHED', message: expect.stringContaining('crash 1 of 3') });
  });

  it('times out a call that never answers, naming the plugin, and counts it like a crash', async () => {
    await installAll();
    const started = Date.now();
    const { code, json } = await cli('hang');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(6);
    expect(json.error).toMatchObject({ code: 'PLUGIN_TIMEOUT', message: "Plugin 'acme.hanger' did not answer commands 'acme.hanger.hang' within 1500 ms (no result, progress or log); its process is stopped and restarts on next use" });
    expect((await cli('plugin', 'list')).json['plugins']).toContainEqual(expect.objectContaining({ id: 'acme.hanger', enabled: true }));
    expect((await cli('work', 'whoami', '/dev/null')).code).toBe(0);
  });
});
