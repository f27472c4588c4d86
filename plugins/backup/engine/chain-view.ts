// Random access to the disk (or volume) an image chain holds, as it was at the newest backup: any byte range reads
// back from the chunks that hold it (decoded, checked and cached), and as zeros where the image holds nothing (free
// blocks, zero-elided blocks). Backs `image browse`: each volume becomes a file that a read-only loop device sits on.
import { ShadowError } from '../../../sdk/index.js';
import type { StreamManifest } from './backup-manifest.js';
import { placeStream } from './chain-layout.js';
import type { ChainLink } from './image-chain.js';

interface Extent {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly link: number;
  readonly chunk: number;
  readonly chunkOffset: number;
}

export interface ViewVolume {
  /** 'disk', 'volume' or 'p<N>'. */
  readonly name: string;
  readonly startBytes: number;
  readonly sizeBytes: number;
  readonly filesystem: string;
  readonly partition?: number;
}

const CACHED_CHUNKS = 16;

export class ChainView {
  private readonly extents: Extent[];
  private readonly cache = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly links: readonly ChainLink[]) {
    const extents: Extent[] = [];
    for (const stream of links[0]!.manifest.streams) {
      for (const placement of placeStream(links, stream)) {
        for (const piece of placement.pieces) extents.push({ ...piece, link: placement.link, chunk: placement.chunk });
      }
    }
    extents.sort((a, b) => a.offsetBytes - b.offsetBytes);
    for (let i = 1; i < extents.length; i++) {
      const prev = extents[i - 1]!;
      if (prev.offsetBytes + prev.lengthBytes > extents[i]!.offsetBytes) {
        throw new ShadowError('IMAGE_CORRUPT', `The image's streams overlap at byte ${extents[i]!.offsetBytes} of the disk; its manifest is damaged`);
      }
    }
    this.extents = extents;
  }

  get sizeBytes(): number {
    return this.links[0]!.manifest.source.sizeBytes;
  }

  /** The whole source, then each filesystem stream (partitions of a disk, or the one volume). */
  volumes(): ViewVolume[] {
    const manifest = this.links[0]!.manifest;
    const out: ViewVolume[] = [];
    if (manifest.source.kind === 'disk') out.push({ name: 'disk', startBytes: 0, sizeBytes: this.sizeBytes, filesystem: manifest.table?.kind ?? 'none' });
    for (const stream of manifest.streams) {
      if (stream.kind !== 'partition' && stream.kind !== 'volume') continue;
      out.push(volumeOf(stream));
    }
    return out;
  }

  /** Bytes [offset, offset + length) of the source as it was; zeros where the image holds nothing. */
  async read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      throw new RangeError(`Read of ${lengthBytes} bytes at ${offsetBytes} lies outside the ${this.sizeBytes}-byte source`);
    }
    const out = new Uint8Array(lengthBytes);
    const end = offsetBytes + lengthBytes;
    const reads: Promise<void>[] = [];
    for (let i = this.firstEndingAfter(offsetBytes); i < this.extents.length; i++) {
      const extent = this.extents[i]!;
      if (extent.offsetBytes >= end) break;
      const from = Math.max(offsetBytes, extent.offsetBytes);
      const to = Math.min(end, extent.offsetBytes + extent.lengthBytes);
      reads.push(this.chunk(extent.link, extent.chunk).then((plain) => {
        const at = extent.chunkOffset + (from - extent.offsetBytes);
        out.set(plain.subarray(at, at + (to - from)), from - offsetBytes);
      }));
    }
    await Promise.all(reads);
    return out;
  }

  /** Index of the first extent that ends after `offset` (extents are sorted and disjoint). */
  private firstEndingAfter(offset: number): number {
    let lo = 0;
    let hi = this.extents.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.extents[mid]!;
      if (e.offsetBytes + e.lengthBytes <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A decoded chunk, shared by concurrent reads; the most recently used few stay cached. */
  private chunk(link: number, index: number): Promise<Uint8Array> {
    const key = `${link}:${index}`;
    let pending = this.cache.get(key);
    if (pending) {
      this.cache.delete(key);
    } else {
      pending = this.links[link]!.reader.readChunk(index);
      pending.catch(() => this.cache.delete(key));
    }
    this.cache.set(key, pending);
    while (this.cache.size > CACHED_CHUNKS) this.cache.delete(this.cache.keys().next().value!);
    return pending;
  }
}

function volumeOf(stream: StreamManifest): ViewVolume {
  return {
    name: stream.kind === 'partition' ? `p${stream.partition ?? stream.id}` : 'volume',
    startBytes: stream.startBytes,
    sizeBytes: stream.sizeBytes,
    filesystem: stream.filesystem,
    ...(stream.partition !== undefined ? { partition: stream.partition } : {}),
  };
}
