// `repo prune`: forget snapshots by a retention policy, then collect garbage safely while backups run. Deleting packs
// in two steps (fossil collection, as Duplicacy does): the unreferenced packs (and packs without an index) are first
// *marked* in prune/ID (packs mostly dead are first repacked: their live chunks copied into new packs); backups that start afterwards neither reuse them nor see them; backups already running when
// the mark was written are waited for (their locks), since they may have referenced those chunks. Then references
// are read again and only packs still unreferenced are deleted, index first.
import { randomBytes } from 'node:crypto';
import type { RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { forgetByPolicy, type RetentionPolicy } from './retention.js';
import { listLocks, RepositoryLock } from './repository-lock.js';
import { chunkLocations, indexKey, packKey, type PackIndex, type Repository, type SnapshotManifest } from './repository.js';
import { decodeBlob } from './chunk-blob.js';
import { PackWriter } from './pack-writer.js';

interface PruneMark {
  time: string;
  packs: string[];
}

/** Packs any prune has marked for deletion: backups must not reuse them. */
export async function markedPacks(repository: Repository): Promise<Set<string>> {
  const out = new Set<string>();
  for (const object of await repository.store.list('prune/')) {
    try {
      for (const pack of (await repository.readJson<PruneMark>(object.key, 'prune mark')).packs) out.add(pack);
    } catch (error) {
      if (!(error instanceof ShadowError && error.code === 'NOT_FOUND')) throw error;
    }
  }
  return out;
}

export function referencedChunks(snapshots: readonly SnapshotManifest[]): Set<string> {
  const out = new Set<string>();
  for (const s of snapshots) {
    for (const stream of s.streams) for (const [id] of stream.chunks) out.add(id);
    for (const id of s.lists ?? []) out.add(id);
  }
  return out;
}

export interface PruneResult {
  forgotten: string[];
  kept: string[];
  packsDeleted: number;
  /** Packs whose live chunks were copied into new packs (more than maxUnused of them was dead). */
  packsRepacked: number;
  repackedBytes: number;
  /** Bytes deleted less bytes written by repacking. */
  bytesFreed: number;
  /** Packs left marked because a backup running at the mark did not finish within the wait. */
  packsDeferred: number;
  staleLocksRemoved: number;
}

/** Whose snapshots a prune's policy applies to (all when unset); the others are kept whatever their age. */
export interface PruneScope {
  source?: string;
  host?: string;
}

export async function pruneRepository(repository: Repository, policy: RetentionPolicy | undefined, options: { waitMs: number; maxUnused: number; scope?: PruneScope }, run: RunContext): Promise<PruneResult> {
  await using _lock = await RepositoryLock.acquire(repository, 'prune');
  let staleLocksRemoved = 0;
  for (const lock of await listLocks(repository)) {
    if (lock.stale) {
      await repository.store.delete(lock.key);
      staleLocksRemoved++;
    }
  }
  const snapshots = await repository.snapshots();
  const { source, host } = options.scope ?? {};
  const inScope = (s: SnapshotManifest) => (source === undefined || s.source === source) && (host === undefined || s.host === host);
  const forgotten = policy ? forgetByPolicy(snapshots.filter(inScope), policy).forgotten : [];
  const gone = new Set(forgotten);
  const keptSnapshots = snapshots.filter((s) => !gone.has(s));
  for (const s of forgotten) await repository.store.delete(`snapshots/${s.id}`);
  run.progress({ phase: 'forget', done: 1, total: 1 });

  const indexes = await repository.readIndexes();
  const indexed = new Set(indexes.map((i) => i.pack));
  const packSizes = new Map((await repository.store.list('data/')).map((o) => [o.key.slice(o.key.lastIndexOf('/') + 1), o.sizeBytes]));
  const references = referencedChunks(await repository.snapshots());
  // A chunk counts in the first pack that holds it; copies elsewhere (two writers, an earlier repack) are waste.
  const home = chunkLocations(indexes);
  const candidates: string[] = [...packSizes.keys()].filter((p) => !indexed.has(p));
  const repack: PackIndex[] = [];
  for (const index of indexes) {
    const live = index.blobs.filter(([id]) => references.has(id) && home.get(id)!.pack === index.pack);
    const liveBytes = live.reduce((n, [, , length]) => n + length, 0);
    const allBytes = index.blobs.reduce((n, [, , length]) => n + length, 0);
    if (live.length === 0) candidates.push(index.pack);
    else if (allBytes - liveBytes > options.maxUnused * allBytes) repack.push({ pack: index.pack, blobs: live });
  }
  // Repacking: the live chunks of mostly-dead packs are copied (checked, still sealed) into new packs first.
  let repackedBytes = 0;
  if (repack.length > 0) {
    const marked = await markedPacks(repository);
    const writer = new PackWriter(repository, marked);
    for (const [n, index] of repack.entries()) {
      const bytes = await repository.store.get(packKey(index.pack));
      for (const [id, offset, length, plainLength] of index.blobs) {
        const sealed = Buffer.from(bytes.subarray(offset, offset + length));
        decodeBlob(repository.keys, id, sealed, plainLength, packKey(index.pack));
        await writer.add({ id, sealed, plainLength });
      }
      candidates.push(index.pack);
      run.progress({ phase: 'repack', done: n + 1, total: repack.length });
    }
    await writer.flush();
    repackedBytes = writer.bytesUploaded;
  }
  const markKey = `prune/${randomBytes(16).toString('hex')}`;
  const earlierMarks = (await repository.store.list('prune/')).map((o) => o.key);
  if (candidates.length > 0) await repository.store.put(markKey, repository.sealJson({ time: new Date().toISOString(), packs: candidates } satisfies PruneMark, 'prune mark'));
  // Listed after the mark is written: a backup whose lock is not in this list started after the mark and avoids it.
  const running = (await listLocks(repository)).filter((l) => l.record.kind === 'backup' && !l.stale).map((l) => l.key);
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const still = (await listLocks(repository)).filter((l) => running.includes(l.key) && !l.stale);
    if (still.length === 0) break;
    if (Date.now() >= deadline) {
      run.log.warn(`${still.length} backup(s) still running after ${options.waitMs / 1000} s; ${candidates.length} pack(s) stay marked for the next prune`);
      return { forgotten: forgotten.map((s) => s.id), kept: keptSnapshots.map((s) => s.id), packsDeleted: 0, packsRepacked: repack.length, repackedBytes, bytesFreed: 0, packsDeferred: candidates.length, staleLocksRemoved };
    }
    run.progress({ phase: `wait for ${still.length} backup(s)`, done: 0, total: 1 });
    await new Promise((r) => setTimeout(r, 500));
  }
  // Backups that were running are done: whatever they referenced is in their snapshots now. A candidate goes only if
  // every chunk referenced now that it holds has a copy in a pack that stays.
  const now = referencedChunks(await repository.snapshots());
  const doomed = new Set(candidates);
  const kept = new Set<string>();
  for (const index of await repository.readIndexes()) if (!doomed.has(index.pack)) for (const [id] of index.blobs) kept.add(id);
  const byPack = new Map(indexes.map((i) => [i.pack, i]));
  let packsDeleted = 0;
  let bytesFreed = 0;
  for (const [n, pack] of candidates.entries()) {
    const index = byPack.get(pack);
    if (index?.blobs.some(([id]) => now.has(id) && !kept.has(id))) {
      // Still needed (a running backup reused it): it stays, and so do the chunks only it holds.
      for (const [id] of index.blobs) kept.add(id);
      continue;
    }
    await repository.store.delete(indexKey(pack));
    await repository.store.delete(packKey(pack));
    packsDeleted++;
    bytesFreed += packSizes.get(pack) ?? 0;
    run.progress({ phase: 'delete', done: n + 1, total: candidates.length });
  }
  for (const key of [...earlierMarks, markKey]) await repository.store.delete(key);
  return { forgotten: forgotten.map((s) => s.id), kept: keptSnapshots.map((s) => s.id), packsDeleted, packsRepacked: repack.length, repackedBytes, bytesFreed: bytesFreed - repackedBytes, packsDeferred: 0, staleLocksRemoved };
}
