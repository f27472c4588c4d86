// The `image browse|ls|cat|extract` commands: a partition inside an image (or, with --repo URL, a repository snapshot),
// mounted read-only through FUSE, either kept mounted until interrupted (browse) or for one file operation (ls, cat,
// extract). File operations run in child processes (find, cat, cp): the FUSE reads they cause are answered on this
// process's main thread, which must stay free.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { formatBytes, ShadowError } from '../../sdk/index.js';
import { runTool } from '../../sdk/node.js';
import { integer, passphrase, positional } from './command-args.js';
import { openBrowse, openImageView, type BrowseOptions, type BrowseSession, type OpenedView } from './engine/browse-session.js';
import { openSnapshotView } from './repository/index.js';

function browseOptions(args: CommandArgs, run: RunContext): Omit<BrowseOptions, 'mountpoint'> {
  const partition = integer(args, 'partition', 1, 65535);
  return { log: run.log, ...(partition !== undefined ? { partition } : {}) };
}

/** The image file named first, or with --repo URL the snapshot named first (id, unique prefix or 'latest'). */
function openView(ctx: PluginContext, args: CommandArgs): Promise<OpenedView> {
  if (typeof args.options['repo'] === 'string') return openSnapshotView(ctx, args);
  return openImageView(positional(args, 0, 'the image file'), passphrase(args));
}

/** Mounts the one partition a file operation needs on a private folder, runs `work`, and takes everything down. */
async function withMountedVolume<T>(ctx: PluginContext, args: CommandArgs, run: RunContext, work: (root: string, session: BrowseSession) => Promise<T>): Promise<T> {
  const options = browseOptions(args, run);
  const opened = await openView(ctx, args);
  const image = opened.label;
  let scratch: string;
  try {
    scratch = await mkdtemp(join(tmpdir(), 'shadowdisk-image-'));
  } catch (error) {
    await opened[Symbol.asyncDispose]();
    throw error;
  }
  try {
    const session = await openBrowse(opened, { ...options, mountpoint: join(scratch, 'mnt') });
    try {
      if (session.mounts.length > 1) {
        const names = session.mounts.map((m) => m.volume.partition).join(', ');
        throw new ShadowError('INVALID_ARGUMENT', `${image} holds several filesystems (partitions ${names}); choose one with --partition N`);
      }
      return await work(session.mounts[0]!.mountpoint, session);
    } catch (error) {
      // A failed file operation over a damaged image: name the damage, not only the tool's "Input/output error".
      const [damage] = session.damaged;
      if (damage !== undefined && !(error instanceof ShadowError && error.code === 'IMAGE_CORRUPT')) {
        throw new ShadowError('IMAGE_CORRUPT', `${image} is damaged: ${damage} (${(error as Error).message}); run 'image verify' on it`, { cause: error, details: { damaged: [...session.damaged] } });
      }
      throw error;
    } finally {
      await session.close();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A path inside the image's filesystem, resolved there: symbolic links are followed as if the filesystem were the
 * root, and a path that would lead out of it is refused rather than read from this machine.
 */
async function insidePath(root: string, path: string): Promise<string> {
  const joined = resolve(root, `.${sep}${path}`);
  const real = (await runTool('realpath', ['-e', '--', joined], { okCodes: [0, 1] })).stdout.trim();
  if (!real) throw new ShadowError('NOT_FOUND', `'${path}' does not exist in the image's filesystem`);
  if (real !== root && !real.startsWith(root + sep)) {
    throw new ShadowError('INVALID_ARGUMENT', `'${path}' is a symbolic link that leads out of the image's filesystem (to ${real}); give the path it points to inside the image`);
  }
  return real;
}

interface Entry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  sizeBytes: number;
  mode: string;
  modified: string;
  target?: string;
}

const TYPES: Record<string, Entry['type']> = { f: 'file', d: 'directory', l: 'symlink' };

async function listEntries(path: string, listChildren: boolean): Promise<Entry[]> {
  const depth = listChildren ? ['-mindepth', '1', '-maxdepth', '1'] : ['-maxdepth', '0'];
  const out = (await runTool('find', [path, ...depth, '-printf', '%y\\t%s\\t%m\\t%T@\\t%l\\t%f\\0'])).stdout;
  return out.split('\0').filter(Boolean).map((line) => {
    const [type, size, mode, mtime, target, ...name] = line.split('\t');
    return {
      name: name.join('\t'),
      type: TYPES[type!] ?? 'other',
      sizeBytes: Number(size),
      mode: mode!.padStart(4, '0'),
      modified: new Date(Number(mtime) * 1000).toISOString(),
      ...(type === 'l' ? { target: target! } : {}),
    };
  }).sort((a, b) => a.name.localeCompare(b.name));
}

export const browseCommands = (ctx: PluginContext) => ({
  async browse(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const mountpoint = resolve(positional(args, 1, 'the folder to mount on'));
    const options = browseOptions(args, run);
    const session = await openBrowse(await openView(ctx, args), { ...options, mountpoint });
    const image = session.image;
    const mounts = session.mounts.map((m) => ({ partition: m.volume.partition ?? null, filesystem: m.volume.filesystem, device: m.device, mountpoint: m.mountpoint }));
    try {
      for (const m of mounts) run.log.info(`Mounted ${m.partition !== null ? `partition ${m.partition}` : 'the volume'} (${m.filesystem}) of ${image} read-only on ${m.mountpoint}`);
      run.log.info(`Raw volumes are in ${session.rawDir}. Press Ctrl-C (or send SIGTERM) to unmount`);
      run.progress({ phase: 'mounted', done: 1, total: 1 });
      await new Promise<void>((done) => {
        if (run.signal.aborted) done();
        else run.signal.addEventListener('abort', () => done(), { once: true });
      });
    } finally {
      await session.close();
    }
    return { data: { image, mounts, unmounted: true }, text: `Unmounted ${image} from ${mountpoint}` };
  },

  async ls(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const inside = args.positionals[1] ?? '/';
    return withMountedVolume(ctx, args, run, async (root) => {
      const path = await insidePath(root, inside);
      const self = (await listEntries(path, false))[0]!;
      const entries = self.type === 'directory' ? await listEntries(path, true) : [{ ...self, name: inside.split('/').filter(Boolean).at(-1) ?? '/' }];
      const width = Math.max(0, ...entries.map((e) => String(e.sizeBytes).length));
      const text = entries.map((e) => `${e.type[0] === 'f' ? '-' : e.type[0]}${e.mode} ${String(e.sizeBytes).padStart(width)} ${e.modified.slice(0, 19).replace('T', ' ')} ${e.name}${e.target !== undefined ? ` -> ${e.target}` : ''}`).join('\n');
      return { data: { image: args.positionals[0], path: inside, entries }, text: text || '(empty directory)' };
    });
  },

  async cat(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const inside = positional(args, 1, 'the path of a file inside the image');
    return withMountedVolume(ctx, args, run, async (root) => {
      const path = await insidePath(root, inside);
      if (!(await stat(path)).isFile()) throw new ShadowError('INVALID_ARGUMENT', `'${inside}' is not a regular file in the image`);
      const bytes = await pipeToStdout('cat', ['--', path], run.signal);
      return { data: { image: args.positionals[0], path: inside, bytes }, text: '', ownsStdout: true };
    });
  },

  async extract(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const inside = positional(args, 1, 'the path of a file or folder inside the image');
    const destination = resolve(positional(args, 2, 'where to put the copy'));
    const existing = await stat(destination).catch(() => undefined);
    return withMountedVolume(ctx, args, run, async (root) => {
      const path = await insidePath(root, inside);
      const name = path === root ? 'root' : path.split(sep).at(-1)!;
      const target = existing?.isDirectory() ? join(destination, name) : destination;
      if ((await stat(target).catch(() => undefined)) && args.options['force'] !== true) {
        throw new ShadowError('INVALID_ARGUMENT', `'${target}' already exists; choose another destination or add --force to overwrite it`);
      }
      await runTool('cp', ['-a', '--no-preserve=context', '-T', '--', path, target], { signal: run.signal });
      const bytes = Number((await runTool('du', ['-sb', '--', target])).stdout.split('\t')[0]);
      return { data: { image: args.positionals[0], path: inside, destination: target, bytes }, text: `Extracted ${inside} (${formatBytes(bytes)}) to ${target}` };
    });
  },
});

/** Streams a child's standard output to ours (binary-safe); resolves with the byte count. */
function pipeToStdout(command: string, args: readonly string[], signal: AbortSignal): Promise<number> {
  return new Promise((resolvePipe, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (!process.stdout.write(chunk)) {
        child.stdout.pause();
        process.stdout.once('drain', () => child.stdout.resume());
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => reject(ShadowError.from(error, 'IO_ERROR')));
    child.once('close', (code) => (code === 0 ? resolvePipe(bytes) : reject(new ShadowError('IO_ERROR', `Reading the file from the image failed: ${stderr.trim() || `exit ${String(code)}`}`))));
  });
}
