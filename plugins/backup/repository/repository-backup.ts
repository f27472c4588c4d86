// `image backup --repo`: the engine's plan and used-block stream of a source, cut into content-defined chunks; chunks
// the repository already holds are referenced, new ones sealed into packs. The snapshot manifest is written last, so a
// backup that dies midway leaves no snapshot, only packs (with their indexes) that the next backup reuses.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { PluginContext, RunContext } from '../../../sdk/index.js';
import { planBackup } from '../engine/source-planner.js';
import { SourceReader } from '../engine/source-reader.js';
import { refuseWritableMounts } from '../engine/mount-state.js';
import { bySegment, includedRanges } from '../engine/packed-stream.js';
import { readWindows, WINDOW_BYTES, windowsOf } from '../engine/read-windows.js';
import { encodeBlob } from './chunk-blob.js';
import { ContentChunker } from './content-chunker.js';
import { PackWriter } from './pack-writer.js';
import { markedPacks } from './repository-prune.js';
import { RepositoryLock } from './repository-lock.js';
import { chunkIdOf } from './repository-keys.js';
import type { Repository, SnapshotManifest } from './repository.js';

export interface RepositoryBackupOptions {
  source: string;
  sourceName?: string;
  compressionLevel?: number;
}

export interface RepositoryBackupResult {
  snapshot: SnapshotManifest;
  chunks: number;
  newChunks: number;
  usedBytes: number;
  /** Plain bytes of the chunks that were new to the repository. */
  newBytes: number;
  uploadedBytes: number;
  packs: number;
  seconds: number;
  mibPerSec: number;
}

export async function runRepositoryBackup(ctx: PluginContext, repository: Repository, options: RepositoryBackupOptions, run: RunContext): Promise<RepositoryBackupResult> {
  refuseWritableMounts(options.source);
  const started = performance.now();
  await using _lock = await RepositoryLock.acquire(repository, 'backup');
  // Packs a prune has marked for deletion are not reused: their chunks are stored again if needed.
  const known = await repository.chunkIndex(await markedPacks(repository));
  await using source = await SourceReader.open(options.source);
  const manifest = await planBackup(ctx, source, run);
  const level = options.compressionLevel ?? 3;
  const gear = repository.gear();
  const packs = new PackWriter(repository);
  const pending = new Set<string>();
  const streams: SnapshotManifest['streams'] = [];
  const total = manifest.streams.reduce((n, s) => n + s.packedBytes, 0);
  let done = 0;
  let chunks = 0;
  let newChunks = 0;
  let newBytes = 0;
  // The id (a keyed hash) comes first: a chunk the repository holds is neither compressed nor encrypted again.
  const store = async (list: [string, number][], chunk: Uint8Array) => {
    const id = chunkIdOf(repository.keys, chunk);
    list.push([id, chunk.length]);
    chunks++;
    if (known.has(id) || pending.has(id)) return;
    pending.add(id);
    newChunks++;
    newBytes += chunk.length;
    await packs.add(encodeBlob(repository.keys, chunk, level, id));
  };
  try {
    for (const stream of manifest.streams) {
      const list: [string, number][] = [];
      const chunker = new ContentChunker(gear, repository.config.chunker);
      const groups = bySegment(includedRanges(stream), stream.startBytes, WINDOW_BYTES);
      for await (const { window, data } of readWindows(source, windowsOf(groups), run.signal)) {
        for (const group of window.groups) {
          for (const r of group.ranges) {
            for (const chunk of chunker.push(data.subarray(r.offsetBytes - window.start, r.offsetBytes - window.start + r.lengthBytes))) await store(list, chunk);
            done += r.lengthBytes;
          }
        }
        run.progress({ phase: 'backup', done, total });
      }
      for (const chunk of chunker.finish()) await store(list, chunk);
      streams.push({ id: stream.id, chunks: list });
    }
    await packs.flush();
  } catch (error) {
    await packs.settle();
    throw error;
  }
  const snapshot: SnapshotManifest = {
    version: 1, id: randomBytes(16).toString('hex'), time: new Date().toISOString(), host: hostname(), source: options.sourceName ?? options.source,
    manifest: options.sourceName !== undefined ? { ...manifest, source: { ...manifest.source, path: options.sourceName } } : manifest,
    streams, usedBytes: total, addedBytes: packs.bytesUploaded,
  };
  await repository.writeSnapshot(snapshot);
  const seconds = (performance.now() - started) / 1000;
  return { snapshot, chunks, newChunks, usedBytes: total, newBytes, uploadedBytes: packs.bytesUploaded, packs: packs.packsWritten, seconds, mibPerSec: total / 1048576 / Math.max(seconds, 1e-6) };
}
