// Builds real plugin package files for tests: folders written on the spot, packed by `npm pack` or GNU tar.
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { captureIo } from '../../core/node/cli/capture-io.js';
import { main } from '../../core/node/cli/main.js';
import { run, tempDir, type TempDir } from '../helpers/index.js';

export interface PluginSource {
  name: string;
  version?: string;
  publisher?: string;
  engines?: string;
  permissions?: string[];
  contributes?: Record<string, unknown>;
  /** Extra package.json keys (or overrides of the shadowdisk key). */
  extra?: Record<string, unknown>;
  /** Files beside package.json; index.js is the main module. */
  files: Record<string, string>;
}

export function manifestOf(source: PluginSource): Record<string, unknown> {
  return {
    name: source.name,
    version: source.version ?? '1.0.0',
    type: 'module',
    main: 'index.js',
    engines: { shadowdisk: source.engines ?? '^0.1.0' },
    shadowdisk: { publisher: source.publisher ?? 'acme', permissions: source.permissions ?? [], contributes: source.contributes ?? {} },
    ...source.extra,
  };
}

/** Writes the plugin folder under `dir` and packs it with `npm pack`; returns the .tgz path. */
export async function npmPack(dir: string, source: PluginSource): Promise<string> {
  const folder = join(dir, `${source.name}-${source.version ?? '1.0.0'}-src`);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'package.json'), JSON.stringify(manifestOf(source), null, 2));
  for (const [path, text] of Object.entries(source.files)) {
    await mkdir(dirname(join(folder, path)), { recursive: true });
    await writeFile(join(folder, path), text);
  }
  const out = join(dir, 'packed');
  await mkdir(out, { recursive: true });
  const { stdout } = await run('npm', ['pack', folder, '--pack-destination', out, '--json', '--silent']);
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  return join(out, packed!.filename);
}

/** Packs `paths` (relative to `cwd`) with GNU tar, passing extra flags (-P keeps '..' and '/', --transform renames). */
export async function gnuTar(cwd: string, archive: string, paths: string[], flags: string[] = []): Promise<string> {
  await run('tar', ['-C', cwd, ...(flags.includes('-I') ? [] : ['-z']), '-cf', archive, ...flags, ...paths]);
  return archive;
}

/** A hash of every name, type, mode, link and content under `root`, to prove a folder was left exactly as it was. */
export async function treeHash(root: string): Promise<string> {
  const hash = createHash('sha256');
  async function walk(path: string, rel: string): Promise<void> {
    const stat = await lstat(path).catch(() => undefined);
    if (!stat) return hash.update(`${rel}:absent\n`), undefined;
    hash.update(`${rel}:${stat.mode}:${stat.size}\n`);
    if (stat.isSymbolicLink()) hash.update(await readlink(path));
    else if (stat.isFile()) hash.update(await readFile(path));
    else if (stat.isDirectory()) for (const name of (await readdir(path)).sort()) await walk(join(path, name), `${rel}/${name}`);
  }
  await walk(root, '');
  return hash.digest('hex');
}

/**
 * A state directory the unprivileged plugin user can pass through (the test run's scratch folder is private to root):
 * directly under /tmp, removed when disposed.
 */
export async function traversableStateDir(): Promise<TempDir> {
  const path = await mkdtemp('/tmp/shadowdisk-plugin-state-');
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

export interface PluginTestFolders {
  /** The state directory of the current test (SHADOWDISK_HOME), traversable by the plugin user. */
  readonly state: TempDir;
  /** Scratch space for package sources and files. */
  readonly work: TempDir;
}

/** Gives each test of the file a fresh state directory as SHADOWDISK_HOME (plus `env`) and a scratch folder, both removed after it. */
export function usePluginTestFolders(env: Record<string, string> = {}): PluginTestFolders {
  let state: TempDir | undefined;
  let work: TempDir | undefined;
  beforeEach(async () => {
    state = await traversableStateDir();
    work = await tempDir('shadowdisk-plugin-pkg-');
    process.env['SHADOWDISK_HOME'] = state.path;
    Object.assign(process.env, env);
    delete process.env['SHADOWDISK_PLUGIN_PATH'];
  });
  afterEach(async () => {
    for (const key of ['SHADOWDISK_HOME', ...Object.keys(env)]) delete process.env[key];
    await work?.[Symbol.asyncDispose]();
    await state?.[Symbol.asyncDispose]();
  });
  return { get state() { return state!; }, get work() { return work!; } };
}

/** Runs the CLI in this process with --json; returns the exit code and the parsed result or error. */
export async function cliJson(...argv: string[]) {
  const io = captureIo();
  const code = await main([...argv, '--json'], io);
  return { code, json: JSON.parse(io.out()) as Record<string, unknown> & { error?: { code: string; message: string; details?: Record<string, unknown> } } };
}

/** Packs an existing plugin folder (an example) with `npm pack` into `dest`; returns the .tgz path. */
export async function npmPackFolder(folder: string, dest: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', folder, '--pack-destination', dest, '--json', '--silent']);
  return join(dest, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
}
