// Deduplication between backups running at the same time. Each backup sees the others' locks: chunks new to the
// repository are shared out by id (hash mod the number of writers that started together), so two machines storing the
// same data upload each chunk once between them. A chunk left to a peer is remembered by its place in the stream; at
// the end, once every such peer has said it is flushed (or is gone), the index is read again and whatever the peers
// did not store (they did not have it, or died) is read from the source again and stored here. Also picks up, twice
// a second, chunks the peers have indexed meanwhile.
import type { RunContext } from '../../../sdk/index.js';
import { listLocks, type RepositoryLock } from './repository-lock.js';
import type { ChunkLocation, PackIndex, Repository } from './repository.js';
import { inParallel } from './in-parallel.js';

/** Peers that started more than this after us are probably behind: we do not wait for them. */
const TOGETHER_MS = 15_000;
const REFRESH_MS = 500;

export class PeerView {
  private peers: { key: string; started: number }[] = [];
  private readonly seenIndexes = new Set<string>();
  private refreshed = 0;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly repository: Repository, private readonly lock: RepositoryLock, private readonly started: number, private readonly known: Map<string, ChunkLocation>, private readonly marked: ReadonlySet<string>) {}

  /** Records the index objects the backup read at its start. */
  async start(indexes: readonly PackIndex[]): Promise<void> {
    for (const i of indexes) this.seenIndexes.add(`index/${i.pack}`);
    await this.refresh();
  }

  /** An index this backup wrote itself: never read back. */
  ownIndex(pack: string): void {
    this.seenIndexes.add(`index/${pack}`);
  }

  /** Refreshes in the background at most every REFRESH_MS; never blocks the data path. */
  tick(): void {
    if (this.refreshing || Date.now() - this.refreshed < REFRESH_MS) return;
    this.refreshing = this.refresh().catch(() => undefined).finally(() => (this.refreshing = undefined));
  }

  /** The running peer (lock key) that stores `id`, or undefined when it is ours. */
  ownerOf(id: string): string | undefined {
    if (this.peers.length === 0) return undefined;
    const writers = [...this.peers.map((p) => p.key), this.lock.key].sort();
    const owner = writers[parseInt(id.slice(0, 8), 16) % writers.length]!;
    return owner === this.lock.key ? undefined : owner;
  }

  /**
   * Looks for peers (only until TOGETHER_MS after the start: later ones do not count) and, when there are any (or
   * `force`), for the chunks they indexed. A backup alone stops asking: listings cost the store more than the data.
   */
  async refresh(force = false): Promise<void> {
    this.refreshed = Date.now();
    if (!force && this.peers.length === 0 && Date.now() - this.started > TOGETHER_MS) return;
    const locks = await listLocks(this.repository);
    this.peers = locks
      .filter((l) => l.key !== this.lock.key && l.record.kind === 'backup' && !l.stale && l.record.phase !== 'flushed' && l.record.started !== undefined)
      .map((l) => ({ key: l.key, started: Date.parse(l.record.started) }))
      .filter((p) => p.started - this.started < TOGETHER_MS);
    if (!force && this.peers.length === 0) return;
    const fresh = (await this.repository.store.list('index/')).map((o) => o.key).filter((k) => !this.seenIndexes.has(k) && !this.marked.has(k.slice('index/'.length)));
    await inParallel(fresh, 4, async (key) => {
      const index = await this.repository.readJson<PackIndex>(key, 'index').catch(() => undefined);
      this.seenIndexes.add(key);
      if (!index) return;
      for (const [id, offset, length, plainLength] of index.blobs) if (!this.known.has(id)) this.known.set(id, { pack: index.pack, offset, length, plainLength });
    });
  }

  /** Waits until each of `owners` has flushed, finished or gone stale (at most `timeoutMs`), then refreshes the index. */
  async awaitPeers(owners: ReadonlySet<string>, timeoutMs: number, run: RunContext): Promise<void> {
    await this.refreshing;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = (await listLocks(this.repository)).filter((l) => owners.has(l.key) && !l.stale && l.record.phase !== 'flushed');
      if (waiting.length === 0 || Date.now() > deadline) break;
      run.progress({ phase: `wait for ${waiting.length} other backup(s)`, done: 0, total: 1 });
      await new Promise((r) => setTimeout(r, 300));
    }
    await this.refresh(true);
  }
}
