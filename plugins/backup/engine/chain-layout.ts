// Where every byte of a chain's newest state lies: for each stream, the chunks (of which link) that hold its data and
// which disk ranges each chunk's pieces belong to. Pure: the manifests and segment tables decide, no chunk is read.
// Table sectors and the boot gap come from the newest image; a filesystem block in use now comes from the newest link
// that stores it; blocks no longer in use appear nowhere (they read as zeros in a view, and a restore leaves them).
import type { StreamManifest } from './backup-manifest.js';
import type { ChainLink } from './image-chain.js';
import { includedRanges, sliceRanges, type SourceRange } from './packed-stream.js';
import { isStored } from './segments.js';

export interface ChunkPiece extends SourceRange {
  /** Where the piece's bytes start within the chunk's plain data. */
  readonly chunkOffset: number;
}

export interface ChunkPlacement {
  /** Index into the chain's links, 0 = newest. */
  readonly link: number;
  readonly chunk: number;
  readonly pieces: readonly ChunkPiece[];
}

/** The chunks of `stream` that still matter, newest link first, each with the disk ranges of its wanted bytes. */
export function placeStream(links: readonly ChainLink[], stream: StreamManifest): ChunkPlacement[] {
  const wanted = stream.extents ? undefined : Buffer.from(stream.bitmap ?? '', 'base64');
  const taken = new Uint8Array(wanted?.length ?? 0);
  const out: ChunkPlacement[] = [];
  const sources = stream.extents ? [0] : links.map((_, i) => i);
  for (const index of sources) {
    const link = links[index]!;
    const own = link.manifest.streams.find((s) => s.id === stream.id)!;
    const segments = link.segments.get(stream.id);
    const ranges = includedRanges(own, segments && link.manifest.segments ? { segmentBytes: link.manifest.segments.bytes, isStored: (i) => isStored(segments, i) } : undefined);
    for (const chunk of link.reader.chunks) {
      if (chunk.streamId !== stream.id) continue;
      const pieces: ChunkPiece[] = [];
      let at = 0;
      for (const piece of sliceRanges(ranges, chunk.offsetBytes, chunk.plainLength)) {
        if (wanted) pieces.push(...newBlocks(piece, at, stream, wanted, taken));
        else pieces.push({ ...piece, chunkOffset: at });
        at += piece.lengthBytes;
      }
      if (pieces.length > 0) out.push({ link: index, chunk: chunk.index, pieces });
    }
  }
  return out;
}

/** The runs of `piece` whose blocks are wanted and not yet taken from a newer link, marking them taken. */
function newBlocks(piece: SourceRange, chunkOffset: number, stream: StreamManifest, wanted: Uint8Array, taken: Uint8Array): ChunkPiece[] {
  const out: { offsetBytes: number; lengthBytes: number; chunkOffset: number }[] = [];
  const size = stream.blockSize;
  const end = piece.offsetBytes + piece.lengthBytes;
  for (let offset = piece.offsetBytes; offset < end; ) {
    const block = Math.floor((offset - stream.startBytes) / size);
    const blockEnd = Math.min(end, stream.startBytes + (block + 1) * size);
    const bit = 1 << (block & 7);
    if ((wanted[block >> 3]! & bit) !== 0 && (taken[block >> 3]! & bit) === 0) {
      taken[block >> 3]! |= bit;
      const last = out.at(-1);
      if (last && last.offsetBytes + last.lengthBytes === offset) last.lengthBytes += blockEnd - offset;
      else out.push({ offsetBytes: offset, lengthBytes: blockEnd - offset, chunkOffset: chunkOffset + (offset - piece.offsetBytes) });
    }
    offset = blockEnd;
  }
  return out;
}
