import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/index.js';
import { cliJson, usePluginTestFolders } from './plugin-packages.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

const folders = usePluginTestFolders();
const cli = cliJson;

const pluginSource = `import { ShadowError, type PluginContext } from '@shadowdisk/sdk';
import { pluginProcess } from '@shadowdisk/sdk/unstable';

export function activate(ctx: PluginContext): void {
  ctx.commands.registerCommand('acme.third.where', (args) => {
    if (args.positionals.length > 1) throw new ShadowError('INVALID_ARGUMENT', 'Give at most one word');
    return { data: { ...pluginProcess(), word: args.positionals[0] ?? null } };
  });
}
`;

/** A third-party plugin project whose only Shadowdisk dependency is the packed SDK. */
async function project(unstableApi: boolean): Promise<string> {
  if (!existsSync(join(repo, 'dist/sdk/index.js'))) throw new Error("dist/sdk is missing: run 'npm run build:ts' first");
  const { stdout } = await run('npm', ['pack', join(repo, 'dist/sdk'), '--pack-destination', folders.work.path, '--json', '--silent']);
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  const paths = packed!.files.map((f) => f.path);
  expect(paths).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'node.d.ts', 'unstable/index.d.ts', 'package.json']));
  expect(paths.filter((p) => p.endsWith('.map') || p.includes('test'))).toEqual([]);

  const dir = join(folders.work.path, `third-${unstableApi}`);
  const sdk = join(dir, 'node_modules/@shadowdisk/sdk');
  await mkdir(sdk, { recursive: true });
  await run('tar', ['-xzf', join(folders.work.path, packed!.filename), '-C', sdk, '--strip-components=1']);
  await mkdir(join(dir, 'node_modules/@types'), { recursive: true });
  await symlink(join(repo, 'node_modules/zod'), join(dir, 'node_modules/zod'));
  await symlink(join(repo, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({
    name: 'third', version: '1.0.0', type: 'module', main: 'lib/index.js', files: ['lib'],
    engines: { shadowdisk: '^0.1.0' },
    shadowdisk: { publisher: 'acme', unstableApi, contributes: { commands: [{ id: 'acme.third.where', title: 'Where do I run', cli: 'where' }] } },
  }));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'nodenext', moduleResolution: 'nodenext', strict: true, types: ['node'], outDir: 'lib', rootDir: 'src', skipLibCheck: false }, include: ['src'] }));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src/index.ts'), pluginSource);
  return dir;
}

async function packPlugin(dir: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', dir, '--pack-destination', folders.work.path, '--json', '--silent']);
  return join(folders.work.path, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
}

describe('@shadowdisk/sdk as a package', () => {
  it('type-checks and builds a third-party plugin against the packed SDK, which installs and runs isolated; unstable/ needs the opt-in', async () => {
    const dir = await project(true);
    await run(join(repo, 'node_modules/.bin/tsc'), ['-p', dir]);
    expect((await cli('plugin', 'install', await packPlugin(dir), '--yes')).json).toMatchObject({ id: 'acme.third', installed: true });
    expect((await cli('where', 'here')).json).toMatchObject({ isolated: true, word: 'here', uid: expect.any(Number) });
    expect((await cli('where', 'a', 'b')).json.error).toEqual({ code: 'INVALID_ARGUMENT', message: 'Give at most one word' });

    // The same code in a release whose manifest drops the opt-in: its import of unstable/ is refused.
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string; shadowdisk: { unstableApi: boolean } };
    manifest.version = '1.0.1';
    manifest.shadowdisk.unstableApi = false;
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
    expect((await cli('plugin', 'update', await packPlugin(dir))).json).toMatchObject({ version: '1.0.1', installed: true });
    expect((await cli('where')).json.error).toMatchObject({ code: 'PLUGIN_PERMISSION_MISSING', message: expect.stringContaining('set shadowdisk.unstableApi to true') });
  });

  it('rejects a plugin misusing the SDK types at compile time', async () => {
    const dir = await project(true);
    await writeFile(join(dir, 'src/index.ts'), `import type { PluginContext } from '@shadowdisk/sdk';\nexport function activate(ctx: PluginContext): void {\n  ctx.commands.registerCommand('acme.third.where', 42);\n}\n`);
    const result = await run(join(repo, 'node_modules/.bin/tsc'), ['-p', dir, '--noEmit'], { allowFailure: true });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/src\/index\.ts\(3,\d+\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'CommandHandler'/);
  });
});
