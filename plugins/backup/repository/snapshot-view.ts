// A repository snapshot as a random-access view (`image browse|ls|cat|extract --repo`): its stream maps say where each
// chunk's bytes go; a chunk is fetched when first read (a ranged read of its pack), authenticated, checked against its
// id and kept among the most recently used. A damaged chunk fails the reads it serves, naming its pack.
import { ShadowError } from '../../../sdk/index.js';
import type { StreamManifest } from '../engine/backup-manifest.js';
import { ExtentView, type ViewChunk, type ViewExtent } from '../engine/extent-view.js';
import { includedRanges, sliceRanges, type SourceRange } from '../engine/packed-stream.js';
import type { ChunkLocation, Repository, SnapshotManifest } from './repository.js';

/** Repository chunks are at most 4 MiB and mostly far smaller: 64 of them stay decoded. */
const CACHED_CHUNKS = 64;

export interface SnapshotChunkPlacement {
  readonly id: string;
  /** Where the chunk's plain bytes go on the disk, in order (each piece follows the previous one in the chunk). */
  readonly pieces: readonly SourceRange[];
}

/** The chunks of one stream of a snapshot, in stream order, each with the disk ranges its bytes belong to. */
export function placeSnapshotStream(snapshot: SnapshotManifest, stream: StreamManifest): SnapshotChunkPlacement[] {
  const chunks = snapshot.streams.find((s) => s.id === stream.id)?.chunks ?? [];
  const ranges = includedRanges(stream);
  let at = 0;
  return chunks.map(([id, length]) => {
    const pieces = sliceRanges(ranges, at, length);
    at += length;
    return { id, pieces };
  });
}

/** Where every chunk the snapshot references lies; IMAGE_CORRUPT naming the first one no index holds. */
export function locateChunks(snapshot: SnapshotManifest, index: ReadonlyMap<string, ChunkLocation>, consequence: string): Map<string, ChunkLocation> {
  const out = new Map<string, ChunkLocation>();
  for (const stream of snapshot.streams) {
    for (const [id] of stream.chunks) {
      const at = index.get(id);
      if (!at) throw new ShadowError('IMAGE_CORRUPT', `Snapshot ${snapshot.id} references chunk ${id.slice(0, 16)}, which no index of the repository holds; run 'repo check'${consequence}`, { details: { snapshot: snapshot.id, chunk: id } });
      out.set(id, at);
    }
  }
  return out;
}

export class SnapshotView extends ExtentView {
  private constructor(snapshot: SnapshotManifest, extents: ViewExtent[]) {
    super(snapshot.manifest, extents, CACHED_CHUNKS);
  }

  static async open(repository: Repository, snapshot: SnapshotManifest): Promise<SnapshotView> {
    const locations = locateChunks(snapshot, await repository.chunkIndex(), '');
    const chunks = new Map<string, ViewChunk>();
    const extents: ViewExtent[] = [];
    for (const stream of snapshot.manifest.streams) {
      for (const { id, pieces } of placeSnapshotStream(snapshot, stream)) {
        let chunk = chunks.get(id);
        if (!chunk) {
          const at = locations.get(id)!;
          chunk = { key: id, read: () => repository.readChunk(id, at) };
          chunks.set(id, chunk);
        }
        let chunkOffset = 0;
        for (const piece of pieces) {
          extents.push({ ...piece, chunk, chunkOffset });
          chunkOffset += piece.lengthBytes;
        }
      }
    }
    return new SnapshotView(snapshot, extents);
  }
}
