// `image restore|verify --repo`: a snapshot's chunks are all read, authenticated and hashed before anything is
// written (a damaged object refuses the restore with nothing written), then written where the snapshot's stream maps
// put them, with the image restore's target checks, table wipe and table settling. Each pack is downloaded once:
// the verify pass reads each pack's needed chunks in a few ranged reads and keeps their sealed bytes in a restore
// spool that the write pass reads back; without room for the spool, the write pass downloads every chunk again.
import { flushBlockDevice } from '../../../native/index.js';
import type { PluginContext, RunContext } from '../../../sdk/index.js';
import { formatBytes } from '../../../sdk/index.js';
import { checkTarget, openTarget, settleTargetTable, wipeTableAreas, zeroExcluded, type RestorePlan } from '../engine/restore-target.js';
import { decodeBlob } from './chunk-blob.js';
import { packReads } from './pack-reads.js';
import { RestoreSpool } from './restore-spool.js';
import { inParallel } from './in-parallel.js';
import { packKey, type ChunkLocation, type Repository, type SnapshotManifest } from './repository.js';
import { locateChunks, placeSnapshotStream } from './snapshot-view.js';

const READS_IN_FLIGHT = 4;

export interface VerifiedSnapshot extends AsyncDisposable {
  readonly chunks: number;
  /** Plain bytes of the distinct chunks checked. */
  readonly bytes: number;
  readonly locations: ReadonlyMap<string, ChunkLocation>;
  /** Where the write pass reads chunks: the spool, or the repository again (and why). */
  readonly reads: { mode: 'spool' | 'repository'; reason?: string; downloadedBytes: number; spoolBytes: number };
  readonly spool?: RestoreSpool;
}

/**
 * Reads every chunk of the snapshot once, pack by pack, and checks it; throws the first problem (naming its object).
 * With `spoolDir`, keeps the sealed chunks in a spool there when it has room (the caller disposes the result).
 */
export async function verifySnapshot(repository: Repository, snapshot: SnapshotManifest, run: RunContext, spoolDir?: string): Promise<VerifiedSnapshot> {
  const locations = locateChunks(snapshot, await repository.chunkIndex(), '. Nothing was written');
  const byPack = new Map<string, [string, ChunkLocation][]>();
  for (const entry of locations) byPack.set(entry[1].pack, [...(byPack.get(entry[1].pack) ?? []), entry]);
  const sealedBytes = [...locations.values()].reduce((n, at) => n + at.length, 0);
  const plainBytes = [...locations.values()].reduce((n, at) => n + at.plainLength, 0);
  let spool: RestoreSpool | undefined;
  let reason: string | undefined;
  if (spoolDir !== undefined) {
    const made = await RestoreSpool.create(spoolDir, sealedBytes);
    if (made instanceof RestoreSpool) spool = made;
    else reason = made.reason;
  }
  let done = 0;
  let downloadedBytes = 0;
  try {
    const reads = [...byPack].flatMap(([pack, chunks]) => packReads(chunks).map((r) => ({ pack, ...r })));
    await inParallel(reads, READS_IN_FLIGHT, async (read) => {
      run.signal.throwIfAborted();
      const key = packKey(read.pack);
      const bytes = await repository.store.get(key, { offset: read.offset, length: read.end - read.offset });
      downloadedBytes += bytes.length;
      for (const [id, at] of read.chunks) {
        const sealed = bytes.subarray(at.offset - read.offset, at.offset - read.offset + at.length);
        decodeBlob(repository.keys, id, sealed, at.plainLength, key);
        await spool?.put(id, sealed);
        done += at.plainLength;
      }
      run.progress({ phase: 'verify', done, total: plainBytes });
    });
  } catch (error) {
    await spool?.[Symbol.asyncDispose]();
    throw error;
  }
  return {
    chunks: locations.size, bytes: plainBytes, locations, ...(spool ? { spool } : {}),
    reads: { mode: spool ? 'spool' : 'repository', ...(reason !== undefined ? { reason } : {}), downloadedBytes, spoolBytes: spool?.sizeBytes ?? 0 },
    [Symbol.asyncDispose]: async () => spool?.[Symbol.asyncDispose](),
  };
}

/** Writes a verified snapshot onto the planned target (whose table areas the caller has wiped); returns bytes written. */
export async function writeSnapshot(repository: Repository, snapshot: SnapshotManifest, plan: RestorePlan, verified: VerifiedSnapshot, run: RunContext): Promise<number> {
  const { spool, locations } = verified;
  const fetch = async (id: string): Promise<Buffer> => {
    const at = locations.get(id)!;
    if (!spool) {
      const plain = await repository.readChunk(id, at);
      verified.reads.downloadedBytes += at.length;
      return plain;
    }
    return decodeBlob(repository.keys, id, await spool.get(id), at.plainLength, `the restore spool (pack ${packKey(at.pack)})`);
  };
  const total = snapshot.usedBytes;
  const handle = await openTarget(plan.target, plan.isBlockDevice);
  let written = 0;
  let done = 0;
  try {
    for (const stream of snapshot.manifest.streams) {
      const chunks = placeSnapshotStream(snapshot, stream);
      // Chunks are read a few ahead of the one being written.
      const reads = new Map<number, Promise<Buffer>>();
      const read = (i: number) => {
        if (i >= chunks.length || reads.has(i)) return;
        const pending = fetch(chunks[i]!.id);
        pending.catch(() => undefined);
        reads.set(i, pending);
      };
      for (let i = 0; i < chunks.length; i++) {
        run.signal.throwIfAborted();
        for (let ahead = i; ahead < i + READS_IN_FLIGHT; ahead++) read(ahead);
        const plain = await reads.get(i)!;
        reads.delete(i);
        let at = 0;
        for (const piece of chunks[i]!.pieces) {
          await handle.write(plain, at, piece.lengthBytes, piece.offsetBytes);
          at += piece.lengthBytes;
        }
        written += plain.length;
        done += plain.length;
        run.progress({ phase: 'restore', done, total });
      }
      await Promise.all([...reads.values()].map((p) => p.catch(() => undefined)));
      if (!stream.extents && stream.zeroElided) written += await zeroExcluded(handle, stream, Buffer.from(stream.bitmap ?? '', 'base64'));
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (plan.isBlockDevice) flushBlockDevice(plan.target);
  return written;
}

export interface SnapshotRestoreOptions {
  dryRun: boolean;
  /** Where the spool goes (under the state directory); undefined: no spool, every chunk is downloaded twice. */
  spoolDir: string | undefined;
  /** Runs the writing (once the snapshot is verified) under the restore journal. */
  journal: <T>(work: (run: RunContext) => Promise<T>) => Promise<T>;
}

/**
 * Checks the target, verifies the whole snapshot, then (unless a dry run) wipes the table areas and writes it under
 * the restore journal.
 */
export async function restoreSnapshot(ctx: PluginContext, repository: Repository, snapshot: SnapshotManifest, target: string, options: SnapshotRestoreOptions, run: RunContext): Promise<{ written: number; gptBackupMoved: boolean; reads: VerifiedSnapshot['reads'] }> {
  const plan = await checkTarget(snapshot.manifest, target, 'restore', "the snapshot's");
  await using verified = await verifySnapshot(repository, snapshot, run, options.dryRun ? undefined : options.spoolDir);
  if (!options.dryRun && options.spoolDir === undefined) verified.reads.reason = 'asked for with --no-spool';
  if (options.dryRun) return { written: 0, gptBackupMoved: false, reads: verified.reads };
  // Awaited here: the spool (disposed when this returns) serves the write pass.
  return await options.journal(async (tracked) => {
    if (snapshot.manifest.source.kind === 'disk') {
      tracked.progress({ phase: 'wipe tables', done: 0, total: 1 });
      await wipeTableAreas(target, plan.targetBytes, plan.isBlockDevice);
    }
    const written = await writeSnapshot(repository, snapshot, plan, verified, tracked);
    return { written, gptBackupMoved: await settleTargetTable(ctx, plan, tracked), reads: verified.reads };
  });
}

/** One line on how the chunks were read, for the command's text. */
export function describeReads(reads: VerifiedSnapshot['reads']): string {
  return reads.mode === 'spool'
    ? `each pack downloaded once (${formatBytes(reads.downloadedBytes)}), spooled through ${formatBytes(reads.spoolBytes)} under the state directory`
    : `every chunk downloaded twice (${formatBytes(reads.downloadedBytes)}): ${reads.reason ?? 'no spool'}`;
}
