// An open repository: its keys, config, chunk index and snapshots. Objects (all sealed with the repository key except
// the key files): config; keys/ID (the master key wrapped by a passphrase); data/XX/PACK (packs of chunks, named by
// the SHA-256 of their bytes); index/PACK (the chunks a pack holds); snapshots/ID (manifests); locks/ID; prune/ID.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ShadowError } from '../../../sdk/index.js';
import type { KdfParams } from '../image/image-keys.js';
import type { BackupManifest } from '../engine/backup-manifest.js';
import { native } from '../../../native/load.js';
import { decodeBlob } from './chunk-blob.js';
import { listBlobs, readListBlobs, type ChunkEntry, type ListBlob } from './chunk-lists.js';
import { inParallel } from './in-parallel.js';
import { DEFAULT_CHUNKER, gearTable, type ChunkerParams } from './content-chunker.js';
import { IndexCache } from './index-cache.js';
import { LocalObjectStore, type ObjectStore } from './object-store.js';
import { deriveKeys, newKeyFile, seal, sealDeterministic, unseal, unwrapKey, type KeyFile, type RepositoryKeys } from './repository-keys.js';

/**
 * Version 1 names chunks by the whole 32-byte keyed hash; version 2 (made since 2026-12) by its first 16 bytes, as
 * Kopia does: a collision needs about 2^64 chunks in one repository, and every index entry, pack header entry and
 * chunk list entry is 16 bytes shorter (about 1.5 MiB less per 30k chunks stored).
 */
export type RepositoryVersion = 1 | 2;
export const REPOSITORY_VERSION: RepositoryVersion = 2;
const idBytesOf = (version: RepositoryVersion) => (version === 1 ? 32 : 16);

export interface RepositoryConfig {
  version: RepositoryVersion;
  id: string;
  createdAt: string;
  chunker: ChunkerParams;
}

/** Where a chunk lives: its pack and its sealed bytes' place in it. */
export interface ChunkLocation {
  pack: string;
  offset: number;
  length: number;
  plainLength: number;
}

export interface PackIndex {
  pack: string;
  blobs: [id: string, offset: number, length: number, plainLength: number][];
}

/**
 * A snapshot: the backup manifest (streams, table, source) and, per stream, its packed data as a list of chunks. Read
 * back, `streams[].chunks` is always the whole list; version 2 stores it in list blobs (chunk-lists.ts), named in
 * `lists`, which are chunks the snapshot needs as much as its data.
 */
export interface SnapshotManifest {
  version: 1 | 2;
  id: string;
  time: string;
  host: string;
  source: string;
  manifest: BackupManifest;
  streams: { id: number; chunks: [id: string, plainLength: number][] }[];
  usedBytes: number;
  /** Bytes of sealed chunks this backup uploaded (what it added to the repository). */
  addedBytes: number;
  /** Version 2: the list blobs holding the chunk lists (not stored: the streams name them). */
  lists?: string[];
}

/** A snapshot as `repo list` shows it: no chunk lists, their length only. */
export type SnapshotSummary = Omit<SnapshotManifest, 'streams' | 'lists'> & { chunks: number };

/** A snapshot object as stored: version 1 lists each stream's chunks; version 2 names its list blobs and their sizes. */
type StoredStream = { id: number; chunks: ChunkEntry[] } | { id: number; lists: [id: string, entries: number][] };
type StoredSnapshot = Omit<SnapshotManifest, 'streams' | 'lists'> & { streams: StoredStream[] };

/** A snapshot whose chunk lists cannot be read (`repo check` reports it; everything else refuses it). */
export interface BrokenSnapshot {
  id: string;
  lists: string[];
  error: ShadowError;
}

/**
 * JSON objects (indexes, snapshots, pack headers, locks) are stored as a zstd frame behind a marker byte and the plain
 * length: their hex chunk ids take about half the room that way. Plain JSON ('{' or '[' first) is read as before.
 */
const ZSTD_JSON = 0x01;
const JSON_LEVEL = 3;

export function encodeJson(value: unknown): Buffer {
  const text = Buffer.from(JSON.stringify(value));
  const out = Buffer.allocUnsafe(text.length);
  const packed = text.length > 5 + 64 ? native().zstdCompressInto(text, out, 5, text.length - 5, JSON_LEVEL) : -1;
  if (packed < 0) return text;
  out[0] = ZSTD_JSON;
  out.writeUInt32LE(text.length, 1);
  return out.subarray(0, packed + 5);
}

export function decodeJson<T>(bytes: Buffer, what: string): T {
  let text = bytes;
  if (bytes[0] === ZSTD_JSON) {
    if (bytes.length < 5) throw new ShadowError('IMAGE_CORRUPT', `${what} is cut short`);
    text = Buffer.allocUnsafe(bytes.readUInt32LE(1));
    try {
      if (native().zstdDecompressInto(bytes.subarray(5), text) !== text.length) throw new Error('its length differs from the one recorded');
    } catch (error) {
      throw new ShadowError('IMAGE_CORRUPT', `${what} does not decompress: ${(error as Error).message}`);
    }
  }
  return JSON.parse(text.toString('utf8')) as T;
}

export const packKey = (pack: string) => `data/${pack.slice(0, 2)}/${pack}`;
export const indexKey = (pack: string) => `index/${pack}`;
export const snapshotKey = (id: string) => `snapshots/${id}`;
const last = (key: string) => key.slice(key.lastIndexOf('/') + 1);


/** Where each chunk is (the first pack listed, when several hold it). */
export function chunkLocations(indexes: readonly PackIndex[]): Map<string, ChunkLocation> {
  const map = new Map<string, ChunkLocation>();
  for (const index of indexes) {
    for (const [id, offset, length, plainLength] of index.blobs) if (!map.has(id)) map.set(id, { pack: index.pack, offset, length, plainLength });
  }
  return map;
}

export class Repository {
  private constructor(readonly store: ObjectStore, readonly keys: RepositoryKeys, readonly config: RepositoryConfig, private readonly indexCache?: IndexCache) {}

  get url(): string {
    return this.store.url;
  }

  gear(): Int32Array {
    return gearTable(this.keys.gearSeed);
  }

  static async init(store: ObjectStore, passphrase: string, kdf?: KdfParams, version: RepositoryVersion = REPOSITORY_VERSION): Promise<Repository> {
    if ((await store.list('config')).some((o) => o.key === 'config')) throw new ShadowError('INVALID_ARGUMENT', `${store.url} already holds a repository; open it instead of initialising it again`);
    const { file, master } = await newKeyFile(passphrase, kdf);
    const keys = deriveKeys(master, idBytesOf(version));
    const config: RepositoryConfig = { version, id: randomBytes(16).toString('hex'), createdAt: new Date().toISOString(), chunker: DEFAULT_CHUNKER };
    await store.put(`keys/${randomBytes(16).toString('hex')}`, Buffer.from(JSON.stringify(file)));
    if (!(await store.putIfAbsent('config', seal(keys.encryption, Buffer.from(JSON.stringify(config)), 'config')))) {
      throw new ShadowError('INVALID_ARGUMENT', `${store.url} was initialised by someone else at the same time; open it instead`);
    }
    return new Repository(store, keys, config);
  }

  /**
   * `cacheDir`: where remote repositories keep copies of their index objects (a folder per repository id, see
   * IndexCache); local folders are read directly.
   */
  static async open(store: ObjectStore, passphrase: string, options: { cacheDir?: string } = {}): Promise<Repository> {
    const keyObjects = await store.list('keys/');
    if (keyObjects.length === 0) throw new ShadowError('NOT_FOUND', `No repository at ${store.url}: it has no key files (run 'repo init' first)`);
    for (const object of keyObjects) {
      const file = JSON.parse(Buffer.from(await store.get(object.key)).toString('utf8')) as KeyFile;
      const master = await unwrapKey(file, passphrase);
      if (!master) continue;
      const keys = deriveKeys(master);
      const config = JSON.parse(unseal(keys.encryption, await store.get('config'), 'config', 'The repository config').toString('utf8')) as RepositoryConfig;
      if (config.version !== 1 && config.version !== 2) throw new ShadowError('UNSUPPORTED', `The repository at ${store.url} has version ${config.version}; this Shadowdisk reads versions 1 and 2`);
      // The id names the copies' folder: only a well-formed one (a config rewritten by a passphrase holder could say '..').
      const cache = options.cacheDir !== undefined && !(store instanceof LocalObjectStore) && /^[0-9a-f]{32}$/.test(config.id) ? new IndexCache(join(options.cacheDir, config.id)) : undefined;
      return new Repository(store, { ...keys, idBytes: idBytesOf(config.version) }, config, cache);
    }
    throw new ShadowError('WRONG_PASSPHRASE', `The passphrase opens none of the ${keyObjects.length} key file(s) of ${store.url}; check --passphrase-file or SHADOWDISK_PASSPHRASE`);
  }

  sealJson(value: unknown, aad: string): Buffer {
    return seal(this.keys.encryption, encodeJson(value), aad);
  }

  /** Equal values seal to equal bytes (pack headers and indexes, which concurrent writers may produce alike). */
  sealJsonDeterministic(value: unknown, aad: string): Buffer {
    const plain = encodeJson(value);
    return sealDeterministic(this.keys, plain, aad, plain);
  }

  async readJson<T>(key: string, aad: string): Promise<T> {
    return this.openJson<T>(await this.store.get(key), key, aad);
  }

  private openJson<T>(sealed: Uint8Array, key: string, aad: string): T {
    return decodeJson<T>(unseal(this.keys.encryption, sealed, aad, `Object '${key}'`), `Object '${key}'`);
  }

  /** An index object's content, which must name the pack its key names (the seal's AAD is the same for every index). */
  private openIndex(sealed: Uint8Array, key: string): PackIndex {
    const index = this.openJson<PackIndex>(sealed, key, 'index');
    if (index.pack !== last(key)) throw new ShadowError('IMAGE_TAMPERED', `Object '${key}' holds the index of another pack (${String(index.pack).slice(0, 16)}…)`, { details: { object: key } });
    return index;
  }

  /**
   * Index objects read since the repository was opened: from the local index cache (`IndexCache`, remote stores with
   * a cache folder given at open) and from the store.
   */
  readonly indexReads = { cached: 0, fetched: 0 };

  /**
   * Every pack's index, except packs in `excluded` (marked for deletion by a prune). `fromStore`: every object read
   * from the store, none from the local cache (repo check proves what the store holds).
   */
  async readIndexes(excluded: ReadonlySet<string> = new Set(), options: { fromStore?: boolean } = {}): Promise<PackIndex[]> {
    const listedAt = Date.now();
    const listed = (await this.store.list('index/')).map((o) => o.key);
    const keys = listed.filter((k) => !excluded.has(last(k)));
    const cache = options.fromStore ? undefined : this.indexCache;
    const read = await inParallel(keys, 8, async (key) => {
      const kept = await cache?.get(key);
      if (kept) {
        try {
          const index = this.openIndex(kept, key);
          this.indexReads.cached++;
          return index;
        } catch {
          // A damaged copy is fetched again (the store's object is what counts).
          await cache!.drop(key);
        }
      }
      try {
        const sealed = await this.store.get(key);
        const index = this.openIndex(sealed, key);
        this.indexReads.fetched++;
        await cache?.put(key, sealed);
        return index;
      } catch (error) {
        // Deleted by a prune between listing and reading: that pack is gone with it.
        if (error instanceof ShadowError && error.code === 'NOT_FOUND') return undefined;
        throw error;
      }
    });
    await this.indexCache?.retain(listed, listedAt);
    return read.filter((i): i is PackIndex => i !== undefined);
  }

  /** An index object this process wrote: kept in the local cache, so the next backup here need not download it. */
  async cacheIndex(key: string, sealed: Uint8Array): Promise<void> {
    await this.indexCache?.put(key, sealed);
  }

  async chunkIndex(excluded?: ReadonlySet<string>): Promise<Map<string, ChunkLocation>> {
    return chunkLocations(await this.readIndexes(excluded));
  }

  async snapshotIds(): Promise<string[]> {
    return (await this.store.list('snapshots/')).map((o) => last(o.key));
  }

  private readonly listCache = new Map<string, ChunkEntry[]>();

  private async readStored(id: string): Promise<StoredSnapshot> {
    const stored = await this.readJson<StoredSnapshot>(snapshotKey(id), 'snapshot');
    if (stored.version !== 1 && stored.version !== 2) throw new ShadowError('UNSUPPORTED', `Snapshot ${id} has version ${String(stored.version)}; this Shadowdisk reads versions 1 and 2`);
    return stored;
  }

  /** Stored snapshots with their chunk lists read from their list blobs (the index is read once, when one has them). */
  private async expand(stored: readonly StoredSnapshot[], index?: ReadonlyMap<string, ChunkLocation>, onBroken?: (broken: BrokenSnapshot) => void): Promise<SnapshotManifest[]> {
    const listsOf = (s: StoredSnapshot) => s.streams.flatMap((st) => ('lists' in st ? st.lists.map(([id]) => id) : []));
    let where = index;
    const out: SnapshotManifest[] = [];
    for (const s of stored) {
      const lists = listsOf(s);
      if (lists.length === 0) {
        out.push(s as SnapshotManifest);
        continue;
      }
      where ??= await this.chunkIndex();
      try {
        await readListBlobs(this.keys, lists, where, (pack, offset, length) => this.store.get(packKey(pack), { offset, length }), this.listCache, packKey, s.id);
      } catch (error) {
        if (!onBroken || !(error instanceof ShadowError)) throw error;
        onBroken({ id: s.id, lists, error });
        continue;
      }
      const streams = s.streams.map((st) => ('lists' in st ? { id: st.id, chunks: st.lists.flatMap(([id]) => this.listCache.get(id)!) } : st));
      out.push({ ...s, streams, lists });
    }
    return out;
  }

  async readSnapshot(id: string): Promise<SnapshotManifest> {
    return (await this.expand([await this.readStored(id)]))[0]!;
  }

  /**
   * Every snapshot, oldest first. `index` saves reading the indexes again; `onBroken` is told of snapshots whose chunk
   * lists cannot be read (left out), which otherwise fail the call.
   */
  async snapshots(options: { index?: ReadonlyMap<string, ChunkLocation>; onBroken?: (broken: BrokenSnapshot) => void } = {}): Promise<SnapshotManifest[]> {
    return this.expand(await this.storedSnapshots(), options.index, options.onBroken);
  }

  /** Every snapshot without its chunk lists (nothing but the snapshot objects is read), oldest first. */
  async snapshotSummaries(): Promise<SnapshotSummary[]> {
    return (await this.storedSnapshots()).map(({ streams, ...rest }) => ({
      ...rest,
      chunks: streams.reduce((n, st) => n + ('lists' in st ? st.lists.reduce((m, [, entries]) => m + entries, 0) : st.chunks.length), 0),
    }));
  }

  private async storedSnapshots(): Promise<StoredSnapshot[]> {
    const all = await inParallel(await this.snapshotIds(), 8, (id) => this.readStored(id).catch((error: unknown) => {
      if (error instanceof ShadowError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }));
    return all.filter((s): s is StoredSnapshot => s !== undefined).sort((a, b) => a.time.localeCompare(b.time));
  }

  /** A snapshot by id, unique id prefix, or 'latest' (optionally of one source). */
  async findSnapshot(ref: string): Promise<SnapshotManifest> {
    return this.readSnapshot(await this.resolveSnapshot(ref));
  }

  /** The id a snapshot reference names (its id, a unique prefix, or 'latest'), from the snapshot objects alone. */
  async resolveSnapshot(ref: string): Promise<string> {
    if (ref === 'latest') {
      const latest = (await this.snapshotSummaries()).at(-1);
      if (!latest) throw new ShadowError('NOT_FOUND', `The repository ${this.url} has no snapshots yet`);
      return latest.id;
    }
    const matches = ref === '' ? [] : (await this.snapshotIds()).filter((id) => id.startsWith(ref));
    if (matches.length !== 1) throw new ShadowError(matches.length === 0 ? 'NOT_FOUND' : 'INVALID_ARGUMENT', matches.length === 0 ? `No snapshot '${ref}' in ${this.url} ('repo list' shows them)` : `Snapshot '${ref}' is ambiguous: ${matches.length} snapshots start with it; give more characters`);
    return matches[0]!;
  }

  /**
   * A snapshot is visible once this object exists, which happens after all its packs and indexes are written (for
   * version 2, its list blobs' too).
   */
  async writeSnapshot(snapshot: SnapshotManifest, runs: readonly (readonly ListBlob[])[] = snapshot.streams.map((st) => listBlobs(this.keys, st.chunks))): Promise<void> {
    const { lists: _lists, ...rest } = snapshot;
    // `runs`: each stream's list blobs, as the backup stored them (made again from the lists when not given).
    const streams: StoredStream[] = snapshot.version === 1 ? snapshot.streams : snapshot.streams.map((st, i) => ({ id: st.id, lists: runs[i]!.map((b) => [b.id, b.entries] as [string, number]) }));
    await this.store.put(snapshotKey(snapshot.id), this.sealJson({ ...rest, streams }, 'snapshot'));
  }

  /** One chunk's plain bytes, authenticated and checked against its id. */
  async readChunk(id: string, at: ChunkLocation): Promise<Buffer> {
    const sealed = await this.store.get(packKey(at.pack), { offset: at.offset, length: at.length });
    return decodeBlob(this.keys, id, sealed, at.plainLength, packKey(at.pack));
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
