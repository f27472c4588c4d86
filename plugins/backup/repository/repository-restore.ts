// `image restore|verify --repo`: a snapshot's chunks are all read, authenticated and hashed before anything is
// written (a damaged object refuses the restore with nothing written), then read again and written where the
// snapshot's stream maps put them, with the image restore's target checks, table wipe and table settling.
import { flushBlockDevice } from '../../../native/index.js';
import type { PluginContext, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { includedRanges, sliceRanges } from '../engine/packed-stream.js';
import { checkTarget, openTarget, settleTargetTable, wipeTableAreas, zeroExcluded } from '../engine/restore-target.js';
import { inParallel, type ChunkLocation, type Repository, type SnapshotManifest } from './repository.js';

const READS_IN_FLIGHT = 4;

function locate(snapshot: SnapshotManifest, index: Map<string, ChunkLocation>): Map<string, ChunkLocation> {
  const out = new Map<string, ChunkLocation>();
  for (const stream of snapshot.streams) {
    for (const [id] of stream.chunks) {
      const at = index.get(id);
      if (!at) throw new ShadowError('IMAGE_CORRUPT', `Snapshot ${snapshot.id} references chunk ${id.slice(0, 16)}, which no index of the repository holds; run 'repo check'. Nothing was written`, { details: { snapshot: snapshot.id, chunk: id } });
      out.set(id, at);
    }
  }
  return out;
}

/** Reads every chunk of the snapshot once; throws the first problem (naming its object). */
export async function verifySnapshot(repository: Repository, snapshot: SnapshotManifest, run: RunContext): Promise<{ chunks: number; bytes: number; locations: Map<string, ChunkLocation> }> {
  const locations = locate(snapshot, await repository.chunkIndex());
  const entries = [...locations.entries()];
  let done = 0;
  let bytes = 0;
  await inParallel(entries, READS_IN_FLIGHT, async ([id, at]) => {
    run.signal.throwIfAborted();
    await repository.readChunk(id, at);
    bytes += at.plainLength;
    run.progress({ phase: 'verify', done: ++done, total: entries.length });
  });
  return { chunks: entries.length, bytes, locations };
}

export async function restoreSnapshot(ctx: PluginContext, repository: Repository, snapshot: SnapshotManifest, target: string, options: { dryRun: boolean }, run: RunContext): Promise<{ written: number; gptBackupMoved: boolean }> {
  const plan = await checkTarget(snapshot.manifest, target, 'restore', "the snapshot's");
  const { locations } = await verifySnapshot(repository, snapshot, run);
  if (options.dryRun) return { written: 0, gptBackupMoved: false };
  if (snapshot.manifest.source.kind === 'disk') await wipeTableAreas(target, plan.targetBytes, plan.isBlockDevice);
  const total = snapshot.usedBytes;
  const handle = await openTarget(plan.target, plan.isBlockDevice);
  let written = 0;
  let done = 0;
  try {
    for (const stream of snapshot.manifest.streams) {
      const chunks = snapshot.streams.find((s) => s.id === stream.id)?.chunks ?? [];
      const ranges = includedRanges(stream);
      const offsets: number[] = [];
      chunks.reduce((at, [, length]) => (offsets.push(at), at + length), 0);
      // Chunks are read a few ahead of the one being written.
      const reads = new Map<number, Promise<Buffer>>();
      const read = (i: number) => {
        if (i >= chunks.length || reads.has(i)) return;
        const [id] = chunks[i]!;
        const pending = repository.readChunk(id, locations.get(id)!);
        pending.catch(() => undefined);
        reads.set(i, pending);
      };
      for (let i = 0; i < chunks.length; i++) {
        run.signal.throwIfAborted();
        for (let ahead = i; ahead < i + READS_IN_FLIGHT; ahead++) read(ahead);
        const plain = await reads.get(i)!;
        reads.delete(i);
        let at = 0;
        for (const piece of sliceRanges(ranges, offsets[i]!, plain.length)) {
          await handle.write(plain, at, piece.lengthBytes, piece.offsetBytes);
          at += piece.lengthBytes;
        }
        written += plain.length;
        done += plain.length;
        run.progress({ phase: 'restore', done, total });
      }
      if (!stream.extents && stream.zeroElided) written += await zeroExcluded(handle, stream, Buffer.from(stream.bitmap ?? '', 'base64'));
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (plan.isBlockDevice) flushBlockDevice(plan.target);
  return { written, gptBackupMoved: await settleTargetTable(ctx, plan) };
}
