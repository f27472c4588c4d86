// `repo init|list|check|prune|stats` and the `--repo` forms of `image backup|restore|verify`.
import { join } from 'node:path';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../../sdk/index.js';
import { formatBytes, ShadowError } from '../../../sdk/index.js';
import { integer, passphrase, positional } from '../command-args.js';
import type { OpenedView } from '../engine/browse-session.js';
import { canonicalPath, identify } from '../engine/device-identity.js';
import { noticeInterrupted, refuseIncompleteSource, restoreJournals } from '../restore-status.js';
import { openObjectStore } from './repository-kinds.js';
import { prepareSource, runRepositoryBackup } from './repository-backup.js';
import { checkRepository, parseSubset } from './repository-check.js';
import { listLocks } from './repository-lock.js';
import { pruneRepository, referencedChunks, type PruneScope } from './repository-prune.js';
import { describeReads, restoreSnapshot, verifySnapshot } from './repository-restore.js';
import { chunkLocations, Repository, REPOSITORY_VERSION, snapshotKey, type ChunkLocation, type RepositoryVersion, type SnapshotManifest } from './repository.js';
import type { RetentionPolicy } from './retention.js';
import { SnapshotView } from './snapshot-view.js';

function repoUrl(args: CommandArgs, first = true): string {
  const value = args.options['repo'] ?? (first ? args.positionals[0] : undefined);
  if (typeof value !== 'string' || value === '') throw new ShadowError('INVALID_ARGUMENT', 'Missing the repository: give --repo URL (file:///folder or s3://bucket/prefix)');
  return value;
}

function secret(args: CommandArgs): string {
  const value = passphrase(args);
  if (value === undefined) throw new ShadowError('INVALID_ARGUMENT', 'A repository is always encrypted: give --passphrase-file F or set SHADOWDISK_PASSPHRASE');
  return value;
}

/** `first`: the repository may be the first word (repo commands) rather than only --repo (image commands). */
async function openRepository(ctx: PluginContext, args: CommandArgs, first: boolean): Promise<Repository> {
  const store = await openObjectStore(ctx, repoUrl(args, first));
  try {
    return await Repository.open(store, secret(args), { cacheDir: join(ctx.storagePath, 'repository-cache') });
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function withRepository<T>(ctx: PluginContext, args: CommandArgs, work: (repository: Repository) => Promise<T>, first = true): Promise<T> {
  const repository = await openRepository(ctx, args, first);
  try {
    return await work(repository);
  } finally {
    await repository.close();
  }
}

/** `image browse|ls|cat|extract --repo URL SNAPSHOT ...`: the snapshot as a view; the repository closes with it. */
export async function openSnapshotView(ctx: PluginContext, args: CommandArgs): Promise<OpenedView> {
  const ref = positional(args, 0, "the snapshot (its id, a unique prefix, or 'latest')");
  const repository = await openRepository(ctx, args, false);
  try {
    const snapshot = await repository.findSnapshot(ref);
    const view = await SnapshotView.open(repository, snapshot);
    return { label: `snapshot ${snapshot.id.slice(0, 8)} of ${repository.url}`, view, [Symbol.asyncDispose]: () => repository.close() };
  } catch (error) {
    await repository.close();
    throw error;
  }
}

/** `--wait SECONDS` (600) for backups running at the mark and `--max-unused PERCENT` (10) of a pack before it is repacked. */
function pruneOptions(args: CommandArgs): { waitMs: number; maxUnused: number } {
  return { waitMs: (integer(args, 'wait', 0, 86_400) ?? 600) * 1000, maxUnused: (integer(args, 'max-unused', 0, 100) ?? 10) / 100 };
}

/** Stored (sealed) bytes of a snapshot's distinct chunks, and of those no other snapshot references: what it adds. */
function storedShares(snapshot: SnapshotManifest, all: readonly SnapshotManifest[], index: Map<string, ChunkLocation>): { storedBytes: number; exclusiveBytes: number } {
  const others = referencedChunks(all.filter((s) => s.id !== snapshot.id));
  let storedBytes = 0;
  let exclusiveBytes = 0;
  for (const id of referencedChunks([snapshot])) {
    const length = index.get(id)?.length ?? 0;
    storedBytes += length;
    if (!others.has(id)) exclusiveBytes += length;
  }
  return { storedBytes, exclusiveBytes };
}

export const repositoryCommands = (ctx: PluginContext) => ({
  async init(args: CommandArgs): Promise<CommandResult> {
    const url = repoUrl(args);
    const pass = secret(args);
    const cost = integer(args, 'kdf-cost', 10, 22);
    // Format 1 (32-byte chunk ids) only for a repository that Shadowdisk builds from before 2026-12 must read.
    const format = (integer(args, 'format', 1, 2) ?? REPOSITORY_VERSION) as RepositoryVersion;
    const store = await openObjectStore(ctx, url);
    try {
      const repository = await Repository.init(store, pass, cost !== undefined ? { N: 2 ** cost, r: 8, p: 1 } : undefined, format);
      return { data: { repository: store.url, id: repository.config.id, format: repository.config.version, chunker: repository.config.chunker }, text: `Initialised the repository ${repository.config.id.slice(0, 8)} at ${store.url}` };
    } finally {
      await store.close();
    }
  },

  async list(args: CommandArgs): Promise<CommandResult> {
    return withRepository(ctx, args, async (repository) => {
      const snapshots = (await repository.snapshotSummaries()).map((s) => ({ id: s.id, time: s.time, host: s.host, source: s.source, kind: s.manifest.source.kind, sizeBytes: s.manifest.source.sizeBytes, usedBytes: s.usedBytes, addedBytes: s.addedBytes, chunks: s.chunks }));
      const text = snapshots.length === 0 ? `No snapshots in ${repository.url}` : snapshots.map((s) => `${s.id.slice(0, 8)}  ${s.time}  ${s.host}  ${s.source}  ${formatBytes(s.usedBytes)} used, ${formatBytes(s.addedBytes)} added`).join('\n');
      return { data: { repository: repository.url, snapshots }, text };
    });
  },

  async stats(args: CommandArgs): Promise<CommandResult> {
    return withRepository(ctx, args, async (repository) => {
      const snapshots = await repository.snapshots();
      const indexes = await repository.readIndexes();
      const index = chunkLocations(indexes);
      const indexedBlobs = indexes.reduce((n, i) => n + i.blobs.length, 0);
      const packs = await repository.store.list('data/');
      const storedBytes = packs.reduce((n, p) => n + p.sizeBytes, 0);
      const referenced = referencedChunks(snapshots);
      const uniqueBytes = [...referenced].reduce((n, id) => n + (index.get(id)?.plainLength ?? 0), 0);
      const totalBytes = snapshots.reduce((n, s) => n + s.usedBytes, 0);
      const data = { repository: repository.url, snapshots: snapshots.length, packs: packs.length, chunks: index.size, indexedBlobs, referencedChunks: referenced.size, totalBytes, uniqueBytes, storedBytes, dedupRatio: storedBytes > 0 ? totalBytes / storedBytes : 0, perSnapshot: snapshots.map((s) => ({ id: s.id, source: s.source, host: s.host, usedBytes: s.usedBytes, addedBytes: s.addedBytes, ...storedShares(s, snapshots, index) })) };
      return { data, text: `${repository.url}: ${snapshots.length} snapshot(s) of ${formatBytes(totalBytes)} used data, ${formatBytes(uniqueBytes)} unique, stored in ${formatBytes(storedBytes)} (${packs.length} packs, ${index.size} chunks; ${data.dedupRatio.toFixed(2)}x)` };
    });
  },

  async check(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const subset = args.options['read-data-subset'] ?? (args.options['read-data'] === true ? '100%' : undefined);
    let reader: ReturnType<typeof parseSubset> | undefined;
    try {
      reader = typeof subset === 'string' ? parseSubset(subset) : undefined;
    } catch (error) {
      throw new ShadowError('INVALID_ARGUMENT', (error as Error).message);
    }
    return withRepository(ctx, args, async (repository) => {
      const result = await checkRepository(repository, reader, run);
      if (result.problems.length > 0) {
        throw new ShadowError('IMAGE_CORRUPT', `The repository ${repository.url} has ${result.problems.length} problem(s): ${result.problems.map((p) => `${p.object}: ${p.problem} (used by snapshot(s) ${p.snapshots.join(', ') || 'none'})`).join('; ')}`, { details: { problems: result.problems } });
      }
      return { data: { repository: repository.url, ok: true, ...result }, text: `${repository.url} is consistent: ${result.snapshots} snapshot(s), ${result.packs} pack(s)${reader ? `, ${result.packsRead} read back (${result.chunksRead} chunks)` : ''}` };
    });
  },

  async prune(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const policy: RetentionPolicy = {};
    for (const [option, key] of [['keep-last', 'keepLast'], ['keep-daily', 'keepDaily'], ['keep-weekly', 'keepWeekly'], ['keep-monthly', 'keepMonthly']] as const) {
      const n = integer(args, option, 1, 100_000);
      if (n !== undefined) policy[key] = n;
    }
    const scope: PruneScope = {};
    for (const key of ['source', 'host'] as const) if (typeof args.options[key] === 'string') scope[key] = args.options[key];
    return withRepository(ctx, args, async (repository) => {
      const result = await pruneRepository(repository, Object.keys(policy).length > 0 ? policy : undefined, { ...pruneOptions(args), scope }, run);
      return { data: { repository: repository.url, ...result }, text: `Pruned ${repository.url}: forgot ${result.forgotten.length} snapshot(s), kept ${result.kept.length}; repacked ${result.packsRepacked} and deleted ${result.packsDeleted} pack(s) (${formatBytes(result.bytesFreed)} freed)${result.packsDeferred ? `; ${result.packsDeferred} pack(s) stay marked until running backups finish` : ''}` };
    });
  },

  /** repo forget URL SNAPSHOT... [--dry-run] [--prune]: those snapshots' objects deleted (their data goes at a prune). */
  async forget(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const refs = args.positionals.slice(args.options['repo'] === undefined ? 1 : 0).map(String);
    if (refs.length === 0) throw new ShadowError('INVALID_ARGUMENT', "Give the snapshots to forget: their ids, unique prefixes or 'latest' ('repo list' shows them)");
    const dryRun = args.options['dry-run'] === true;
    return withRepository(ctx, args, async (repository) => {
      // Every reference is resolved before anything is deleted: one bad reference forgets nothing.
      const ids = [...new Set(await Promise.all(refs.map((ref) => repository.resolveSnapshot(ref))))];
      if (!dryRun) for (const id of ids) await repository.store.delete(snapshotKey(id));
      const pruned = !dryRun && args.options['prune'] === true ? await pruneRepository(repository, undefined, pruneOptions(args), run) : undefined;
      const text = `${dryRun ? 'Would forget' : 'Forgot'} ${ids.length} snapshot(s) of ${repository.url}: ${ids.map((id) => id.slice(0, 8)).join(', ')}${pruned ? `; deleted ${pruned.packsDeleted} and repacked ${pruned.packsRepacked} pack(s) (${formatBytes(pruned.bytesFreed)} freed)` : dryRun ? '' : "; their data goes at the next 'repo prune'"}`;
      return { data: { repository: repository.url, forgotten: ids, dryRun, ...(pruned ? { prune: pruned } : {}) }, text };
    });
  },

  async locks(args: CommandArgs): Promise<CommandResult> {
    return withRepository(ctx, args, async (repository) => {
      const locks = await listLocks(repository);
      return { data: { repository: repository.url, locks: locks.map((l) => ({ key: l.key, ...l.record, stale: l.stale })) }, text: locks.map((l) => `${l.key}  ${l.record.kind}  ${l.record.host}:${l.record.pid}  ${l.record.time}${l.stale ? '  stale' : ''}`).join('\n') || 'No locks' };
    });
  },

  /** image backup --repo URL <source> */
  async backup(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const source = positional(args, 0, 'the source disk, partition or image file');
    refuseIncompleteSource(restoreJournals(ctx), source, 'back up');
    const level = integer(args, 'level', 0, 19);
    // The source is planned and its files walked while the repository opens (the passphrase's scrypt).
    const preparing = prepareSource(ctx, source, run);
    preparing.catch(() => undefined);
    let repository: Repository;
    try {
      repository = await openRepository(ctx, args, false);
    } catch (error) {
      await (await preparing.catch(() => undefined))?.[Symbol.asyncDispose]();
      throw error;
    }
    try {
      await using prepared = await preparing;
      const result = await runRepositoryBackup(ctx, repository, prepared, { source, ...(level !== undefined ? { compressionLevel: level } : {}), ...(typeof args.options['source-name'] === 'string' ? { sourceName: args.options['source-name'] } : {}) }, run);
      const { snapshot, ...figures } = result;
      return { data: { repository: repository.url, snapshot: snapshot.id, ...figures }, text: `Backed up ${source} to ${repository.url} as snapshot ${snapshot.id.slice(0, 8)}: ${formatBytes(result.usedBytes)} used, ${result.newChunks} of ${result.chunks} chunks new, ${formatBytes(result.uploadedBytes)} uploaded in ${result.packs} pack(s) (${result.mibPerSec.toFixed(0)} MiB/s)` };
    } finally {
      await repository.close();
    }
  },

  /** image verify --repo URL <snapshot> */
  async verify(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const ref = positional(args, 0, "the snapshot (its id, a unique prefix, or 'latest')");
    return withRepository(ctx, args, async (repository) => {
      const snapshot = await repository.findSnapshot(ref);
      await using verified = await verifySnapshot(repository, snapshot, run);
      const { chunks, bytes } = verified;
      return { data: { repository: repository.url, snapshot: snapshot.id, ok: true, chunks, bytes, downloadedBytes: verified.reads.downloadedBytes }, text: `Snapshot ${snapshot.id.slice(0, 8)} is intact: ${chunks} chunks (${formatBytes(bytes)}) verified` };
    }, false);
  },

  /** image restore --repo URL <snapshot> <target>: verified whole first, then written under the restore journal. */
  async restore(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const ref = positional(args, 0, "the snapshot (its id, a unique prefix, or 'latest')");
    const target = canonicalPath(positional(args, 1, 'the target disk or image file'));
    const dryRun = args.options['dry-run'] === true;
    const spoolDir = args.options['no-spool'] === true ? undefined : join(ctx.storagePath, 'restore-spool');
    const journals = restoreJournals(ctx);
    return withRepository(ctx, args, async (repository) => {
      const snapshot = await repository.findSnapshot(ref);
      const earlier = noticeInterrupted(journals, target, snapshot.id, run, repository.url);
      if (!dryRun && args.options['yes'] !== true && !(await run.confirm?.(`Overwrite ${target} with snapshot ${snapshot.id.slice(0, 8)}?`))) {
        throw new ShadowError('ABORTED', `Not restored: confirm with --yes (or answer yes on a terminal) to overwrite ${target}`);
      }
      const start = { operation: 'image restore' as const, target, targetIdentity: identify(target)!, source: snapshot.id, repository: repository.url, encrypted: true };
      const journal = <T>(work: (tracked: RunContext) => Promise<T>) => journals.track(start, run, work);
      const { written, gptBackupMoved, reads } = await restoreSnapshot(ctx, repository, snapshot, target, { dryRun, spoolDir, journal }, run);
      const interrupted = earlier ? { interruptedBefore: earlier.report } : {};
      const base = { repository: repository.url, snapshot: snapshot.id, target, ...interrupted };
      if (dryRun) return { data: { ...base, dryRun: true }, text: `Dry run: snapshot ${snapshot.id.slice(0, 8)} is intact and ${target} fits; nothing was written${earlier ? `\n${earlier.note}` : ''}` };
      return { data: { ...base, bytesWritten: written, gptBackupMoved, reads }, text: `Restored ${formatBytes(written)} from snapshot ${snapshot.id.slice(0, 8)} onto ${target}${gptBackupMoved ? '; moved the backup GPT to the end of the larger disk' : ''}${earlier?.sameSource ? `; this finished the restore interrupted at ${earlier.report.percent}%` : ''}; ${describeReads(reads)}` };
    }, false);
  },
});
