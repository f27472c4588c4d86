// A snapshot's chunk lists stored as list blobs: binary runs of (chunk id, plain length), content-addressed and packed
// like data chunks, as restic keeps its trees. A run ends after an entry whose id is an anchor, so a second generation
// stores again only the runs around what changed, instead of a whole new list (~1 MiB per 30k chunks) in the snapshot.
import { ShadowError } from '../../../sdk/index.js';
import { decodeBlob } from './chunk-blob.js';
import { chunkIdOf, type RepositoryKeys } from './repository-keys.js';
import type { ChunkLocation } from './repository.js';
import { inParallel } from './in-parallel.js';
import { packReads } from './pack-reads.js';

export type ChunkEntry = [id: string, plainLength: number];

/** An entry: the chunk id's bytes (32, or 16 where the repository's ids are 16 bytes) and a u32 (LE) plain length. */
const entryBytes = (idBytes: number) => idBytes + 4;
/** One id in 64 ends a run (~2.3 KiB a list blob); a run never exceeds 1024 entries. */
const ANCHOR_MASK = 0x3f;
const MAX_ENTRIES = 1024;

export interface ListBlob {
  id: string;
  plain: Buffer;
  entries: number;
}

/** A stream's chunk list cut into list blobs (ids are keyed hashes, so anchors fall evenly and the same everywhere). */
export function listBlobs(keys: RepositoryKeys, chunks: readonly ChunkEntry[]): ListBlob[] {
  const out: ListBlob[] = [];
  let start = 0;
  for (let i = 0; i < chunks.length; i++) {
    const anchor = (parseInt(chunks[i]![0].slice(0, 2), 16) & ANCHOR_MASK) === 0;
    if (anchor || i + 1 - start >= MAX_ENTRIES || i === chunks.length - 1) {
      const plain = encodeList(chunks.slice(start, i + 1), keys.idBytes);
      out.push({ id: chunkIdOf(keys, plain), plain, entries: i + 1 - start });
      start = i + 1;
    }
  }
  return out;
}

export function encodeList(chunks: readonly ChunkEntry[], idBytes: number): Buffer {
  const size = entryBytes(idBytes);
  const out = Buffer.allocUnsafe(chunks.length * size);
  chunks.forEach(([id, length], i) => {
    if (id.length !== 2 * idBytes || out.write(id, i * size, idBytes, 'hex') !== idBytes) throw new Error(`Chunk id '${id}' is not ${2 * idBytes} hex digits`);
    out.writeUInt32LE(length, i * size + idBytes);
  });
  return out;
}

export function decodeList(plain: Buffer, idBytes: number, what: string): ChunkEntry[] {
  const size = entryBytes(idBytes);
  if (plain.length % size !== 0) throw new ShadowError('IMAGE_CORRUPT', `${what} is ${plain.length} bytes, not a whole number of ${size}-byte entries`);
  const out: ChunkEntry[] = [];
  for (let at = 0; at < plain.length; at += size) out.push([plain.toString('hex', at, at + idBytes), plain.readUInt32LE(at + idBytes)]);
  return out;
}

/**
 * The entries of list blobs, read from their packs a few ranges at a time (a snapshot's new runs lie together) and
 * checked like any chunk. `cache` keeps decoded runs by id: they are content-addressed, so never stale.
 */
export async function readListBlobs(keys: RepositoryKeys, ids: readonly string[], index: ReadonlyMap<string, ChunkLocation>, fetch: (pack: string, offset: number, length: number) => Promise<Uint8Array>, cache: Map<string, ChunkEntry[]>, packName: (pack: string) => string, snapshot: string): Promise<void> {
  const byPack = new Map<string, [string, ChunkLocation][]>();
  for (const id of new Set(ids)) {
    if (cache.has(id)) continue;
    const at = index.get(id);
    if (!at) throw new ShadowError('IMAGE_CORRUPT', `Snapshot ${snapshot} references chunk list ${id.slice(0, 16)}, which no index of the repository holds; run 'repo check'`, { details: { snapshot, chunk: id } });
    byPack.set(at.pack, [...(byPack.get(at.pack) ?? []), [id, at]]);
  }
  const reads = [...byPack].flatMap(([pack, blobs]) => packReads(blobs).map((r) => ({ pack, ...r })));
  await inParallel(reads, 8, async (read) => {
    const bytes = await fetch(read.pack, read.offset, read.end - read.offset);
    for (const [id, at] of read.chunks) {
      const plain = decodeBlob(keys, id, bytes.subarray(at.offset - read.offset, at.offset - read.offset + at.length), at.plainLength, packName(read.pack));
      cache.set(id, decodeList(plain, keys.idBytes, `Chunk list ${id.slice(0, 16)} in ${packName(read.pack)}`));
    }
  });
}
