// `disk wipe-free <mountpoint> [--method zero|random] [--yes]`: erases what deleted files left in a mounted filesystem's
// free space by filling it with one file (zeros or random data) until the filesystem is full, flushing it and deleting
// it. Files in use are untouched; metadata (inode tables, directory blocks) and the slack of live files are not.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, statfs, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandArgs, CommandResult, RunContext } from '../../sdk/index.js';
import { formatBytes, ShadowError } from '../../sdk/index.js';
import { choiceOption, positional } from './command-args.js';

const BLOCK_BYTES = 4 * 1024 * 1024;
const SMALLEST_BYTES = 4096;

async function mountOf(path: string): Promise<{ fsType: string; readOnly: boolean } | undefined> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  let found: { fsType: string; readOnly: boolean } | undefined;
  for (const line of info.split('\n')) {
    const fields = line.split(' ');
    const mountpoint = fields[4]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (mountpoint !== path) continue;
    const rest = fields.slice(fields.indexOf('-') + 1);
    found = { fsType: rest[0] ?? 'unknown', readOnly: (fields[5] ?? '').split(',').includes('ro') };
  }
  return found;
}

export async function wipeFreeCommand(args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const mountpoint = resolve(positional(args, 0, 'the mountpoint of the filesystem whose free space to wipe'));
  const method = choiceOption(args, 'method', ['zero', 'random'] as const) ?? 'zero';
  const mount = await mountOf(mountpoint);
  if (!mount) throw new ShadowError('INVALID_ARGUMENT', `'${mountpoint}' is not a mountpoint; give the folder a filesystem is mounted on`);
  if (mount.readOnly) throw new ShadowError('INVALID_ARGUMENT', `${mountpoint} is mounted read-only; free space can only be filled on a read-write mount`);
  const before = await statfs(mountpoint);
  const freeBytes = before.bfree * before.bsize;
  if (args.options['dry-run'] === true) {
    return { data: { mountpoint, fsType: mount.fsType, method, dryRun: true, freeBytes }, text: `Dry run: would fill ${formatBytes(freeBytes)} of free space on ${mountpoint} (${mount.fsType}) with ${method === 'zero' ? 'zeros' : 'random data'}, then delete it; nothing was written` };
  }
  if (args.options['yes'] !== true && !(await run.confirm?.(`Fill the free space of ${mountpoint} (${formatBytes(freeBytes)}) and delete it?`))) {
    throw new ShadowError('ABORTED', `Not wiped: confirm with --yes (or answer yes on a terminal)`);
  }
  const fillPath = join(mountpoint, `.shadowdisk-wipe-free-${process.pid}`);
  const handle = await open(fillPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  const started = performance.now();
  let written = 0;
  try {
    const block = method === 'zero' ? Buffer.alloc(BLOCK_BYTES) : Buffer.alloc(0);
    for (let size = BLOCK_BYTES; size >= SMALLEST_BYTES; ) {
      run.signal.throwIfAborted();
      const data = method === 'zero' ? block.subarray(0, size) : randomBytes(size);
      try {
        const { bytesWritten } = await handle.write(data, 0, size, written);
        written += bytesWritten;
        if (bytesWritten < size) size /= 2;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw ShadowError.from(error, 'IO_ERROR');
        // Full at this size: the last blocks go in smaller pieces, then a flush may free delayed allocations' slack.
        size /= 2;
      }
      run.progress({ phase: 'fill', done: written, total: Math.max(freeBytes, written) });
    }
    await handle.sync().catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOSPC') throw error;
    });
  } finally {
    await handle.close();
    await unlink(fillPath);
  }
  const directory = await open(mountpoint, 'r');
  await directory.sync().finally(() => directory.close());
  const seconds = (performance.now() - started) / 1000;
  return {
    data: { mountpoint, fsType: mount.fsType, method, dryRun: false, freeBytes, filledBytes: written, seconds },
    text: `Filled ${formatBytes(written)} of free space on ${mountpoint} (${mount.fsType}) with ${method === 'zero' ? 'zeros' : 'random data'} in ${seconds.toFixed(1)} s and deleted it`,
  };
}
