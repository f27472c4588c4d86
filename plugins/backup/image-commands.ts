// The `image` commands: backup, verify, info, restore.
import { renameSync, rmSync, statSync } from 'node:fs';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { formatBytes, ShadowError } from '../../sdk/index.js';
import { fileImageSink, fileImageSource, ImageReader, streamImageSink } from './image/index.js';
import { integer, passphrase, positional } from './command-args.js';
import { runBackup } from './engine/backup-job.js';
import { readChangedBlocksFile } from './engine/changed-blocks.js';
import { basename, dirname, relative, resolve } from 'node:path';
import { openChain } from './engine/image-chain.js';
import { manifestOf } from './engine/manifest-check.js';
import { checkRestore, writeChain } from './engine/restore-job.js';
import { settleTargetTable, wipeTableAreas } from './engine/restore-target.js';
import { canonicalPath, identify } from './engine/device-identity.js';
import { noticeInterrupted, refuseIncompleteSource, restoreJournals, statusCommand } from './restore-status.js';
import { repositoryCommands } from './repository/index.js';

/** An image goes to a new regular file: never onto the source, a block device, or an existing file without --force. */
function refuseOutput(source: string, output: string, force: boolean): void {
  const out = statSync(output, { throwIfNoEntry: false });
  if (!out) return;
  const src = statSync(source, { throwIfNoEntry: false });
  if (src && src.dev === out.dev && src.ino === out.ino) throw new ShadowError('INVALID_ARGUMENT', `The image would overwrite its own source '${source}'; write it somewhere else`);
  if (out.isBlockDevice()) throw new ShadowError('INVALID_ARGUMENT', `'${output}' is a block device; an image is written to a file (restore it onto a device with 'image restore')`);
  if (out.isFile() && !force) throw new ShadowError('INVALID_ARGUMENT', `'${output}' already exists; choose another name or add --force to replace it once the new image is complete`);
}

/** --incremental PARENT (the chain's latest image) or --differential FULL (a full image). */
function parentOption(args: CommandArgs, output: string): { path: string; file: string; mode: 'incremental' | 'differential' } | undefined {
  const incremental = args.options['incremental'];
  const differential = args.options['differential'];
  if (incremental !== undefined && differential !== undefined) throw new ShadowError('INVALID_ARGUMENT', 'Give --incremental or --differential, not both');
  const value = incremental ?? differential;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ShadowError('INVALID_ARGUMENT', `--${incremental !== undefined ? 'incremental' : 'differential'} needs the parent image file`);
  if (output === '-') throw new ShadowError('INVALID_ARGUMENT', 'An incremental or differential image names its parent by file, so it cannot go to standard output');
  const path = resolve(value);
  // Stored relative to the child, so a chain can move as a folder.
  return { path, file: relative(dirname(resolve(output)), path) || basename(path), mode: incremental !== undefined ? 'incremental' : 'differential' };
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

/**
 * `image backup --hot`: the volume stays in use. It must be attached through hot processing (`hot attach`); its
 * snapshot is imaged and the changed-block map feeds --incremental. The hot-processing plugin does the work.
 */
async function hotBackup(ctx: PluginContext, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const volume = positional(args, 0, 'the attached volume (its hot device or its origin)');
  // With --repo the snapshot goes into the repository; otherwise into an image file.
  const output = inRepository(args) ? [] : [positional(args, 1, 'the image file to write')];
  if (output[0] === '-') throw new ShadowError('INVALID_ARGUMENT', "A hot backup writes an image file, not standard output: name the file");
  if (!ctx.commands.list().some((c) => c.id === HOT_BACKUP)) {
    throw new ShadowError('NOT_FOUND', "image backup --hot needs the hot-processing plugin, which is not loaded");
  }
  const { hot: _hot, ...options } = args.options;
  return ctx.commands.executeCommand(HOT_BACKUP, { positionals: [volume, ...output], options }, run);
}

const HOT_BACKUP = 'shadowdisk.hot-processing.backup';

/** `image backup --vss <volume>... <folder>`: the volumes imaged from one shadow-copy set; the vss plugin does the work. */
async function shadowSetBackup(ctx: PluginContext, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  if (!ctx.commands.list().some((c) => c.id === VSS_BACKUP)) throw new ShadowError('NOT_FOUND', 'image backup --vss needs the vss plugin, which is not loaded');
  const { vss, ...options } = args.options;
  // `--vss /mnt/a /mnt/b DIR`: the command line reads the first volume as the option's value.
  const positionals = typeof vss === 'string' ? [vss, ...args.positionals] : args.positionals;
  return ctx.commands.executeCommand(VSS_BACKUP, { positionals, options }, run);
}

const VSS_BACKUP = 'shadowdisk.vss.backup';

/** `--repo URL`: the command works on a repository's snapshots instead of an image file. */
const inRepository = (args: CommandArgs) => typeof args.options['repo'] === 'string';

export const imageCommands = (ctx: PluginContext) => ({
  async backup(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    if (args.options['hot'] === true) return hotBackup(ctx, args, run);
    if (inRepository(args)) return repositoryCommands(ctx).backup(args, run);
    if (args.options['vss'] !== undefined && args.options['vss'] !== false) return shadowSetBackup(ctx, args, run);
    const sourcePath = positional(args, 0, 'the source disk, partition or image file');
    refuseIncompleteSource(restoreJournals(ctx), sourcePath, 'back up');
    const output = positional(args, 1, "the image file to write ('-' for standard output)");
    const toStdout = output === '-';
    // Every check before the output is touched: a failed backup must not cost the last good image at that path.
    const kdfCost = integer(args, 'kdf-cost', 10, 22);
    const level = integer(args, 'level', 0, 19);
    const chunkMiB = integer(args, 'chunk-mib', 1, 64);
    const secret = passphrase(args);
    const parent = parentOption(args, output);
    const changedMap = args.options['changed-blocks'];
    if (changedMap !== undefined && (typeof changedMap !== 'string' || !parent)) throw new ShadowError('INVALID_ARGUMENT', '--changed-blocks needs a map file and --incremental or --differential (the map says what changed since that parent)');
    const changedBlockBytes = integer(args, 'changed-block-size', 512, 1 << 20) ?? 4096;
    if (!toStdout) refuseOutput(sourcePath, output, args.options['force'] === true);
    const partial = `${output}.partial`;
    const fileSink = toStdout ? undefined : await fileImageSink(partial);
    const pipeSink = toStdout ? streamImageSink(process.stdout) : undefined;
    try {
      const result = await runBackup(ctx, {
        source: sourcePath,
        sink: (fileSink ?? pipeSink)!,
        ...(secret !== undefined ? { passphrase: secret } : {}),
        ...(level !== undefined ? { compressionLevel: level } : {}),
        ...(chunkMiB !== undefined ? { chunkSizeBytes: chunkMiB * 1048576 } : {}),
        ...(kdfCost !== undefined ? { kdf: { N: 2 ** kdfCost, r: 8, p: 1 } } : {}),
        ...(parent ? { parent } : {}),
        ...(changedMap !== undefined ? { changedBlocks: (sourceBytes: number) => readChangedBlocksFile(changedMap, changedBlockBytes, sourceBytes) } : {}),
        ...(typeof args.options['source-name'] === 'string' ? { sourceName: args.options['source-name'] } : {}),
      }, run);
      if (fileSink) {
        await fileSink[Symbol.asyncDispose]();
        renameSync(partial, output);
      } else await pipeSink!.end();
      const streams = result.manifest.streams.map((s) => ({ id: s.id, kind: s.kind, partition: s.partition ?? null, filesystem: s.filesystem, method: s.method, sizeBytes: s.sizeBytes, packedBytes: s.packedBytes }));
      const data = { image: output, imageId: result.imageId, encrypted: secret !== undefined, parent: result.manifest.parent ?? null, chunks: result.chunkCount, imageBytes: result.imageBytes, storedBytes: result.storedBytes, segmentsUnread: result.segmentsUnread, seconds: result.seconds, mibPerSec: result.mibPerSec, peakRssMiB: result.peakRssMiB, streams };
      const text = [
        `Backed up ${sourcePath} to ${output}${parent ? ` (${parent.mode} since ${parent.path})` : ''}: ${formatBytes(result.storedBytes)} of data stored in ${formatBytes(result.imageBytes)} (${result.mibPerSec.toFixed(0)} MiB/s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB)`,
        ...streams.map((s) => `  stream ${s.id}: ${s.kind}${s.partition ? ` ${s.partition}` : ''} ${s.filesystem}, ${formatBytes(s.packedBytes)} of ${formatBytes(s.sizeBytes)} (${s.method})`),
      ].join('\n');
      return { data, text, ...(toStdout ? { ownsStdout: true } : {}) };
    } catch (error) {
      if (fileSink) {
        await Promise.resolve(fileSink[Symbol.asyncDispose]()).catch(() => undefined);
        rmSync(partial, { force: true });
      }
      throw error;
    }
  },

  async verify(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    if (inRepository(args)) return repositoryCommands(ctx).verify(args, run);
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
      const data = { image: path, imageId: reader.header.imageId, encrypted: reader.header.encrypted, createdAt: manifest.createdAt, source: manifest.source, table: manifest.table?.kind ?? null, streams: manifest.streams.map((st) => ({ id: st.id, kind: st.kind, partition: st.partition ?? null, filesystem: st.filesystem, method: st.method, startBytes: st.startBytes, sizeBytes: st.sizeBytes, usedBytes: st.packedBytes })), parent: manifest.parent ?? null, chunks: reader.chunks.length };
      const text = [`${path}: image ${data.imageId} of ${manifest.source.kind} ${manifest.source.path} (${formatBytes(manifest.source.sizeBytes)}), ${data.encrypted ? 'encrypted' : 'not encrypted'}, made ${manifest.createdAt}`, ...(manifest.table?.sfdiskDump ? [manifest.table.sfdiskDump] : [])].join('\n');
      return { data, text };
    } finally {
      await source[Symbol.asyncDispose]();
    }
  },

  async restore(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const journals = restoreJournals(ctx);
    const status = statusCommand(journals, args);
    if (status) return status;
    if (inRepository(args)) return repositoryCommands(ctx).restore(args, run);
    const path = positional(args, 0, 'the image file');
    const target = canonicalPath(positional(args, 1, 'the target disk or image file'));
    const secret = passphrase(args);
    const earlier = noticeInterrupted(journals, target, path, run);
    await using chain = await openChain(path, secret);
    const plan = await checkRestore(chain.links, target, run);
    const interrupted = earlier ? { interruptedBefore: earlier.report } : {};
    if (args.options['dry-run'] === true) {
      return { data: { image: path, target, dryRun: true, chain: chain.links.map((l) => l.path), ...interrupted }, text: `Dry run: ${chain.links.length > 1 ? `the chain of ${chain.links.length} images is` : 'the image is'} intact and ${target} fits; nothing was written${earlier ? `\n${earlier.note}` : ''}` };
    }
    if (args.options['yes'] !== true && !(await run.confirm?.(`Overwrite ${target} with the image ${path}?`))) {
      throw new ShadowError('ABORTED', `Not restored: confirm with --yes (or answer yes on a terminal) to overwrite ${target}`);
    }
    const journal = { operation: 'image restore' as const, target, targetIdentity: identify(target)!, source: resolve(path), chain: chain.links.map((l) => resolve(l.path)), encrypted: secret !== undefined };
    const { written, gptBackupMoved } = await journals.track(journal, run, async (tracked) => {
      if (plan.manifest.source.kind === 'disk') {
        tracked.progress({ phase: 'wipe tables', done: 0, total: 1 });
        await wipeTableAreas(target, plan.targetBytes, plan.isBlockDevice);
      }
      const written = await writeChain(chain.links, plan, tracked);
      return { written, gptBackupMoved: await settleTargetTable(ctx, plan, tracked) };
    });
    return {
      data: { image: path, target, chain: chain.links.map((l) => l.path), bytesWritten: written, gptBackupMoved, ...interrupted },
      text: `Restored ${formatBytes(written)} from ${path}${chain.links.length > 1 ? ` and its ${chain.links.length - 1} parent image(s)` : ''} onto ${target}${gptBackupMoved ? '; moved the backup GPT to the end of the larger disk' : ''}${earlier?.sameSource ? `; this finished the restore interrupted at ${earlier.report.percent}%` : ''}`,
    };
  },
});
