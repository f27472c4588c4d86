// Random access to a backed-up disk (or volume) as it was: any byte range reads back from the chunks that hold it
// (fetched on demand, decoded, checked and cached, most recently used kept), and as zeros where the backup holds
// nothing (free blocks, zero-elided blocks). Single-file image chains (ChainView) and repository snapshots
// (SnapshotView) say where each chunk's bytes go; `image browse` serves each volume as a file over this.
import { ShadowError } from '../../../sdk/index.js';
import type { BackupManifest, StreamManifest } from './backup-manifest.js';

/** One chunk as a view reads it: `key` names it for the cache (equal keys are one chunk, decoded once). */
export interface ViewChunk {
  readonly key: string;
  read(): Promise<Uint8Array>;
}

/** A run of the disk whose bytes sit in one chunk, from `chunkOffset` of its plain data. */
export interface ViewExtent {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly chunk: ViewChunk;
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

/** What `image browse` reads: the volumes of a backup and their bytes. */
export interface VolumeView {
  readonly sizeBytes: number;
  volumes(): ViewVolume[];
  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array>;
}

export class ExtentView implements VolumeView {
  private readonly extents: ViewExtent[];
  private readonly cache = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly manifest: BackupManifest, extents: ViewExtent[], private readonly cachedChunks: number) {
    extents.sort((a, b) => a.offsetBytes - b.offsetBytes);
    for (let i = 1; i < extents.length; i++) {
      const prev = extents[i - 1]!;
      if (prev.offsetBytes + prev.lengthBytes > extents[i]!.offsetBytes) {
        throw new ShadowError('IMAGE_CORRUPT', `The backup's streams overlap at byte ${extents[i]!.offsetBytes} of the disk; its manifest is damaged`);
      }
    }
    this.extents = extents;
  }

  get sizeBytes(): number {
    return this.manifest.source.sizeBytes;
  }

  /** The whole source, then each filesystem stream (partitions of a disk, or the one volume). */
  volumes(): ViewVolume[] {
    const out: ViewVolume[] = [];
    if (this.manifest.source.kind === 'disk') out.push({ name: 'disk', startBytes: 0, sizeBytes: this.sizeBytes, filesystem: this.manifest.table?.kind ?? 'none' });
    for (const stream of this.manifest.streams) {
      if (stream.kind !== 'partition' && stream.kind !== 'volume') continue;
      out.push(volumeOf(stream));
    }
    return out;
  }

  /** Bytes [offset, offset + length) of the source as it was; zeros where the backup holds nothing. */
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
      reads.push(this.chunk(extent.chunk).then((plain) => {
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

  /** A decoded chunk, shared by concurrent reads; the most recently used few stay cached, a failed one does not. */
  private chunk(chunk: ViewChunk): Promise<Uint8Array> {
    let pending = this.cache.get(chunk.key);
    if (pending) {
      this.cache.delete(chunk.key);
    } else {
      pending = chunk.read();
      pending.catch(() => this.cache.delete(chunk.key));
    }
    this.cache.set(chunk.key, pending);
    while (this.cache.size > this.cachedChunks) this.cache.delete(this.cache.keys().next().value!);
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
