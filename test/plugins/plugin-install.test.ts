import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/index.js';
import { cliJson, gnuTar, manifestOf, npmPack, type PluginSource, treeHash, usePluginTestFolders } from './plugin-packages.js';

const folders = usePluginTestFolders();
const cli = cliJson;

const greeter = (version = '1.0.0', permissions: string[] = []): PluginSource => ({
  name: 'greeter', version, permissions,
  contributes: { commands: [{ id: 'acme.greeter.greet', title: 'Greet someone', category: 'Acme', cli: 'greet' }] },
  files: { 'index.js': `export function activate(ctx) {\n  ctx.commands.registerCommand('acme.greeter.greet', (args) => ({ data: { greeting: 'hello ' + (args.positionals[0] ?? 'world'), version: '${version}' } }));\n}\n` },
});

/** A plugin folder `package/` under a fresh folder, ready for GNU tar. */
async function packageFolder(source: PluginSource = greeter()): Promise<string> {
  const cwd = await mkdtemp(join(folders.work.path, 'src-'));
  await mkdir(join(cwd, 'package'));
  await writeFile(join(cwd, 'package', 'package.json'), JSON.stringify(manifestOf(source)));
  for (const [path, text] of Object.entries(source.files)) {
    await mkdir(dirname(join(cwd, 'package', path)), { recursive: true });
    await writeFile(join(cwd, 'package', path), text);
  }
  return cwd;
}

/** The same plugin packed by GNU tar the way npm pack lays it out (quicker than npm, which starts slowly here). */
async function tarPack(source: PluginSource): Promise<string> {
  const cwd = await packageFolder(source);
  return gnuTar(cwd, join(cwd, `${source.name}.tgz`), ['package']);
}

const installedState = async () => `${await treeHash(join(folders.state.path, 'installed-plugins'))}/${await treeHash(join(folders.state.path, 'installed-plugins.json'))}`;

describe('plugin install', () => {
  it('installs a packed plugin, runs its command, disables, enables, updates and uninstalls it', async () => {
    const v1 = await npmPack(folders.work.path, greeter());
    const dry = await cli('plugin', 'install', v1, '--dry-run');
    expect(dry.json).toMatchObject({ id: 'acme.greeter', version: '1.0.0', dryRun: true, installed: false, runsAs: 'unprivileged', contributions: { commands: ['acme.greeter.greet'] } });
    expect(existsSync(join(folders.state.path, 'installed-plugins.json'))).toBe(false);

    const refused = await cli('plugin', 'install', v1);
    expect(refused.json.error?.code).toBe('ABORTED');
    expect((await cli('plugin', 'install', v1, '--yes')).json).toMatchObject({ id: 'acme.greeter', installed: true });

    const commands = (await cli('commands')).json['commands'] as { id: string; plugin: string }[];
    expect(commands).toContainEqual(expect.objectContaining({ id: 'acme.greeter.greet', plugin: 'acme.greeter' }));
    expect((await cli('greet', 'disk')).json).toEqual({ greeting: 'hello disk', version: '1.0.0' });
    expect((await cli('plugin', 'list')).json['plugins']).toEqual([expect.objectContaining({ id: 'acme.greeter', version: '1.0.0', enabled: true })]);
    expect((await cli('plugin', 'install', v1, '--yes')).json.error?.code).toBe('PLUGIN_ALREADY_INSTALLED');

    await cli('plugin', 'disable', 'acme.greeter');
    expect(((await cli('commands')).json['commands'] as { id: string }[]).some((c) => c.id === 'acme.greeter.greet')).toBe(false);
    expect((await cli('plugin', 'list')).json['plugins']).toEqual([expect.objectContaining({ state: 'disabled', disabledReason: 'disabled by the user' })]);
    await cli('plugin', 'enable', 'acme.greeter');

    // An update that asks for more permissions needs consent again; one that does not, does not.
    const v2 = await npmPack(folders.work.path, greeter('1.1.0', ['network']));
    expect((await cli('plugin', 'update', v2)).json.error).toMatchObject({ code: 'ABORTED', message: expect.stringContaining('new: network') });
    expect((await cli('plugin', 'update', v2, '--yes')).json).toMatchObject({ version: '1.1.0', previousVersion: '1.0.0', newPermissions: ['network'], installed: true });
    const v3 = await npmPack(folders.work.path, greeter('1.2.0', ['network']));
    expect((await cli('plugin', 'update', v3)).json).toMatchObject({ version: '1.2.0', installed: true });
    expect((await cli('greet')).json).toEqual({ greeting: 'hello world', version: '1.2.0' });
    expect(readdirSync(join(folders.state.path, 'installed-plugins'))).toHaveLength(1);

    expect((await cli('plugin', 'uninstall', 'acme.greeter')).json).toMatchObject({ uninstalled: true });
    expect(readdirSync(join(folders.state.path, 'installed-plugins'))).toEqual([]);
    expect((await cli('greet')).json.error?.code).toBe('COMMAND_NOT_FOUND');
    expect((await cli('plugin', 'list')).json['plugins']).toEqual([]);
  });

  it('refuses bad archives and manifests with a named code and leaves the installed plugins byte for byte unchanged', async () => {
    // A plugin already installed, so the folder and the list have something to keep.
    expect((await cli('plugin', 'install', await tarPack(greeter()), '--yes')).json['installed']).toBe(true);
    const outside = join(folders.work.path, 'escaped');
    await mkdir(outside);
    const cases: { name: string; make: () => Promise<string>; code: string; reason?: string; text: RegExp }[] = [
      {
        name: 'path traversal', code: 'PLUGIN_ARCHIVE_UNSAFE', reason: 'parent-segment', text: /'package\/\.\.\/\.\.\/escaped\/evil\.js' contains '\.\.'/,
        make: async () => { const cwd = await packageFolder(); await writeFile(join(cwd, 'package', 'evil.js'), 'x'); return gnuTar(cwd, join(folders.work.path, 'traversal.tgz'), ['package'], ['-P', '--transform', 's,^package/evil.js,package/../../escaped/evil.js,']); },
      },
      {
        name: 'absolute path', code: 'PLUGIN_ARCHIVE_UNSAFE', reason: 'absolute-path', text: /has an absolute path/,
        make: async () => { const cwd = await packageFolder(); await writeFile(join(outside, 'abs.js'), 'x'); return gnuTar(cwd, join(folders.work.path, 'absolute.tgz'), ['package', join(outside, 'abs.js')], ['-P']); },
      },
      {
        name: 'link leaving the root', code: 'PLUGIN_ARCHIVE_UNSAFE', reason: 'link-escape', text: /symbolic link 'lib' points at '\.\.\/\.\.\/escaped', outside the package/,
        make: async () => { const cwd = await packageFolder(); await symlink('../../escaped', join(cwd, 'package', 'lib')); return gnuTar(cwd, join(folders.work.path, 'link.tgz'), ['package']); },
      },
      {
        name: 'chain of links leaving the root', code: 'PLUGIN_ARCHIVE_UNSAFE', reason: 'link-escape', text: /symbolic link 'up' resolves to '.*', outside the package/,
        make: async () => {
          const cwd = await packageFolder();
          await symlink('.', join(cwd, 'package', 'here'));
          await symlink('here/..', join(cwd, 'package', 'up'));
          return gnuTar(cwd, join(folders.work.path, 'chain.tgz'), ['package']);
        },
      },
      {
        name: 'archive bomb (bytes)', code: 'PLUGIN_ARCHIVE_UNSAFE', reason: 'too-many-bytes', text: /unpacks to more than 134217728 bytes|inflates to more than/,
        make: async () => { const cwd = await packageFolder(); await truncate(join(cwd, 'package', 'zeros.bin'), 0).catch(() => undefined); await writeFile(join(cwd, 'package', 'zeros.bin'), ''); await truncate(join(cwd, 'package', 'zeros.bin'), 160 * 1024 * 1024); return gnuTar(cwd, join(folders.work.path, 'bomb.tgz'), ['package'], ['-I', 'gzip -1']); },
      },
      {
        name: 'archive bomb (entries)', code: 'PLUGIN_ARCHIVE_UNSAFE', reason: 'too-many-entries', text: /more than 5000 entries/,
        make: async () => { const cwd = await packageFolder(); await mkdir(join(cwd, 'package', 'many')); await Promise.all(Array.from({ length: 5100 }, (_, i) => writeFile(join(cwd, 'package', 'many', `f${i}`), ''))); return gnuTar(cwd, join(folders.work.path, 'entries.tgz'), ['package']); },
      },
      {
        name: 'special file', code: 'PLUGIN_ARCHIVE_UNSAFE', reason: 'special-file', text: /is a FIFO/,
        make: async () => { const cwd = await packageFolder(); await run('mkfifo', [join(cwd, 'package', 'pipe')]); return gnuTar(cwd, join(folders.work.path, 'fifo.tgz'), ['package']); },
      },
      {
        name: 'bad manifest', code: 'PLUGIN_MANIFEST_INVALID', text: /shadowdisk\.contributes\.commands\[0\]\.id: must look like publisher\.plugin\.thing/,
        make: async () => tarPack({ ...greeter(), name: 'bad-ids', contributes: { commands: [{ id: 'Not An Id', title: 'x' }] } }),
      },
      {
        name: 'engine mismatch', code: 'PLUGIN_ENGINE_MISMATCH', text: /needs Shadowdisk '\^9\.0\.0' \(engines\.shadowdisk\) but this is 0\.1\.0/,
        make: async () => tarPack({ ...greeter(), name: 'future', engines: '^9.0.0', contributes: {} }),
      },
      {
        name: 'duplicate id of a shipped plugin', code: 'PLUGIN_ALREADY_INSTALLED', text: /A plugin with id 'shadowdisk\.workbench' is already loaded/,
        make: async () => tarPack({ name: 'workbench', publisher: 'shadowdisk', files: { 'index.js': 'export function activate() {}\n' } }),
      },
      {
        name: 'native code without the permission', code: 'PLUGIN_PERMISSION_MISSING', text: /ships native code \(build\/addon\.node\)/,
        make: async () => tarPack({ name: 'native-thing', files: { 'index.js': 'export function activate() {}\n', 'build/addon.node': '\x7fELF' } }),
      },
      {
        name: 'missing main', code: 'PLUGIN_MANIFEST_INVALID', text: /main: 'index\.js' is not a file of the package/,
        make: async () => tarPack({ name: 'no-main', files: { 'lib.js': '' } }),
      },
      {
        name: 'not an archive', code: 'PLUGIN_ARCHIVE_INVALID', text: /not a valid gzip stream/,
        make: async () => { const path = join(folders.work.path, 'junk.tgz'); await writeFile(path, Buffer.from([0x1f, 0x8b, 1, 2, 3])); return path; },
      },
    ];
    const before = await installedState();
    for (const c of cases) {
      const file = await c.make();
      for (const dryRun of c.reason === 'link-escape' || c.reason === 'parent-segment' ? [[], ['--dry-run']] : [[]]) {
        const { code, json } = await cli('plugin', 'install', file, '--yes', ...dryRun);
        expect.soft(json.error?.code, c.name).toBe(c.code);
        expect.soft(json.error?.message, c.name).toMatch(c.text);
        if (c.reason) expect.soft(json.error?.details?.['reason'], c.name).toBe(c.reason);
        expect.soft(code, c.name).toBe(6);
      }
      expect(await installedState(), c.name).toBe(before);
      expect(readdirSync(join(folders.state.path, 'plugin-staging')).length, c.name).toBe(0);
    }
    expect(readdirSync(outside)).toEqual(['abs.js']);
    expect(existsSync(join(folders.work.path, '..', 'escaped'))).toBe(false);
    await rm(outside, { recursive: true });
  });
});
