// The `image` commands: backup, verify, info, restore.
import { readFileSync } from 'node:fs';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { formatBytes, ShadowError } from '../../sdk/index.js';
import { fileImageSink, fileImageSource, ImageReader, streamImageSink } from './image/index.js';
import { runBackup } from './engine/backup-job.js';
import { checkRestore, manifestOf, writeChunks } from './engine/restore-job.js';

function positional(args: CommandArgs, index: number, what: string): string {
  const value = args.positionals[index];
  if (value === undefined) throw new ShadowError('INVALID_ARGUMENT', `Missing ${what}`);
  return value;
}

/** From --passphrase-file (first line) or SHADOWDISK_PASSPHRASE; never from the command line, where `ps` shows it. */
function passphrase(args: CommandArgs): string | undefined {
  const file = args.options['passphrase-file'];
  if (typeof file === 'string') {
    try {
      return readFileSync(file, 'utf8').split('\n')[0]!;
    } catch (error) {
      throw new ShadowError('NOT_FOUND', `Cannot read the passphrase file '${file}': ${(error as Error).message}`);
    }
  }
  return process.env['SHADOWDISK_PASSPHRASE'] || undefined;
}

function integer(args: CommandArgs, name: string, min: number, max: number): number | undefined {
  const value = args.options[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ShadowError('INVALID_ARGUMENT', `--${name} must be a whole number from ${min} to ${max}, got '${String(value)}'`);
  return n;
}

async function openImage(path: string, args: CommandArgs) {
  const source = await fileImageSource(path);
  try {
    const secret = passphrase(args);
    return { source, reader: await ImageReader.open(source, secret === undefined ? {} : { passphrase: secret }) };
  } catch (error) {
    await source[Symbol.asyncDispose]();
    throw error;
  }
}

export const imageCommands = (ctx: PluginContext) => ({
  async backup(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const sourcePath = positional(args, 0, 'the source disk, partition or image file');
    const output = positional(args, 1, "the image file to write ('-' for standard output)");
    const toStdout = output === '-';
    const fileSink = toStdout ? undefined : await fileImageSink(output);
    const pipeSink = toStdout ? streamImageSink(process.stdout) : undefined;
    const kdfCost = integer(args, 'kdf-cost', 10, 22);
    const secret = passphrase(args);
    try {
      const result = await runBackup(ctx, {
        source: sourcePath,
        sink: (fileSink ?? pipeSink)!,
        ...(secret !== undefined ? { passphrase: secret } : {}),
        ...(integer(args, 'level', 0, 19) !== undefined ? { compressionLevel: integer(args, 'level', 0, 19)! } : {}),
        ...(integer(args, 'chunk-mib', 1, 64) !== undefined ? { chunkSizeBytes: integer(args, 'chunk-mib', 1, 64)! * 1048576 } : {}),
        ...(kdfCost !== undefined ? { kdf: { N: 2 ** kdfCost, r: 8, p: 1 } } : {}),
      }, run);
      if (fileSink) await fileSink[Symbol.asyncDispose]();
      else await pipeSink!.end();
      const streams = result.manifest.streams.map((s) => ({ id: s.id, kind: s.kind, partition: s.partition ?? null, filesystem: s.filesystem, method: s.method, sizeBytes: s.sizeBytes, packedBytes: s.packedBytes }));
      const data = { image: output, imageId: result.imageId, encrypted: secret !== undefined, chunks: result.chunkCount, imageBytes: result.imageBytes, packedBytes: result.packedBytes, seconds: result.seconds, mibPerSec: result.mibPerSec, peakRssMiB: result.peakRssMiB, streams };
      const text = [
        `Backed up ${sourcePath} to ${output}: ${formatBytes(result.packedBytes)} of used data in ${formatBytes(result.imageBytes)} (${result.mibPerSec.toFixed(0)} MiB/s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB)`,
        ...streams.map((s) => `  stream ${s.id}: ${s.kind}${s.partition ? ` ${s.partition}` : ''} ${s.filesystem}, ${formatBytes(s.packedBytes)} of ${formatBytes(s.sizeBytes)} (${s.method})`),
      ].join('\n');
      return { data, text };
    } catch (error) {
      if (fileSink) await Promise.resolve(fileSink[Symbol.asyncDispose]()).catch(() => undefined);
      throw error;
    }
  },

  async verify(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const path = positional(args, 0, 'the image file');
    const { source, reader } = await openImage(path, args);
    try {
      manifestOf(reader, path);
      await reader.verify((p) => run.progress({ phase: 'verify', done: p.bytesDone, total: p.bytesTotal }));
      return { data: { image: path, imageId: reader.header.imageId, ok: true, chunks: reader.chunks.length }, text: `${path} is intact: ${reader.chunks.length} chunks verified` };
    } finally {
      await source[Symbol.asyncDispose]();
    }
  },

  async info(args: CommandArgs): Promise<CommandResult> {
    const path = positional(args, 0, 'the image file');
    const { source, reader } = await openImage(path, args);
    try {
      const manifest = manifestOf(reader, path);
      const data = { image: path, imageId: reader.header.imageId, encrypted: reader.header.encrypted, createdAt: manifest.createdAt, source: manifest.source, table: manifest.table?.kind ?? null, streams: manifest.streams.map(({ bitmap: _bitmap, extents: _extents, ...rest }) => rest), chunks: reader.chunks.length };
      const text = [`${path}: image ${data.imageId} of ${manifest.source.kind} ${manifest.source.path} (${formatBytes(manifest.source.sizeBytes)}), ${data.encrypted ? 'encrypted' : 'not encrypted'}, made ${manifest.createdAt}`, ...(manifest.table?.sfdiskDump ? [manifest.table.sfdiskDump] : [])].join('\n');
      return { data, text };
    } finally {
      await source[Symbol.asyncDispose]();
    }
  },

  async restore(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const path = positional(args, 0, 'the image file');
    const target = positional(args, 1, 'the target disk or image file');
    const { source, reader } = await openImage(path, args);
    try {
      const plan = await checkRestore(reader, path, target, run);
      if (args.options['dry-run'] === true) {
        return { data: { image: path, target, dryRun: true, bytes: reader.chunks.reduce((n, c) => n + c.plainLength, 0) }, text: `Dry run: the image is intact and ${target} fits; nothing was written` };
      }
      if (args.options['yes'] !== true && !(await run.confirm?.(`Overwrite ${target} with the image ${path}?`))) {
        throw new ShadowError('INVALID_ARGUMENT', `Not restored: confirm with --yes (or answer yes on a terminal) to overwrite ${target}`);
      }
      const written = await writeChunks(reader, plan, run);
      const repaired = await moveBackupGpt(ctx, plan.manifest.table?.kind, plan.targetBytes > plan.manifest.source.sizeBytes, target);
      return { data: { image: path, target, bytesWritten: written, gptBackupMoved: repaired }, text: `Restored ${formatBytes(written)} from ${path} onto ${target}${repaired ? '; moved the backup GPT to the end of the larger disk' : ''}` };
    } finally {
      await source[Symbol.asyncDispose]();
    }
  },
});

/** On a larger disk the backup GPT restored from the image sits where the old disk ended: put it at the new end. */
async function moveBackupGpt(ctx: PluginContext, table: string | undefined, larger: boolean, target: string): Promise<boolean> {
  if (table !== 'gpt' || !larger) return false;
  const shown = (await ctx.commands.executeCommand('shadowdisk.partition.part-show', { positionals: [target] })).data as { damaged: string[] };
  if (shown.damaged.length === 0) return false;
  await ctx.commands.executeCommand('shadowdisk.partition.part-repair', { positionals: [target], options: { yes: true } });
  return true;
}
