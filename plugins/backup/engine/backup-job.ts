// `image backup`: plan the streams, then read → encode on worker threads → write in order, with bounded memory.
// With a parent image, only the segments whose hash changed since the parent are stored.
import { randomBytes } from 'node:crypto';
import type { PluginContext, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { ImageWriter, type ImageSink } from '../image/index.js';
import type { KdfParams } from '../image/image-keys.js';
import type { EncodedChunk } from '../image/chunk-codec.js';
import type { BackupManifest } from './backup-manifest.js';
import { ChunkPool } from './chunk-pool.js';
import { openChain, sameLayout } from './image-chain.js';
import { refuseWritableMounts } from './mount-state.js';
import { encodeSegmentDoc, SEGMENT_BYTES, SEGMENT_HASH_BYTES, segmentKeyObject, type StreamSegments } from './segments.js';
import { planBackup } from './source-planner.js';
import { SourceReader } from './source-reader.js';
import { copyBlockStream, copyExtentStream, type ChangedBlocks, type CopyContext } from './stream-copier.js';

export interface BackupOptions {
  source: string;
  sink: ImageSink;
  passphrase?: string;
  compressionLevel?: number;
  chunkSizeBytes?: number;
  kdf?: KdfParams;
  /** Store only what changed since this image: the latest of a chain (incremental) or a full image (differential). */
  parent?: { path: string; file: string; mode: 'incremental' | 'differential' };
  /**
   * Changed-block tracking since the parent was taken (hot processing's map): segments nothing wrote, with the same
   * blocks in use as in the parent, are not read at all. Without it every used block is read and hashed. Given the
   * source's size once it is open, so a map of another volume is refused before anything is written.
   */
  changedBlocks?: (sourceBytes: number) => ChangedBlocks;
  /** The name the image records as its source, when `source` is a stand-in for it (a hot snapshot's device). */
  sourceName?: string;
}

export interface BackupResult {
  imageId: string;
  manifest: BackupManifest;
  chunkCount: number;
  imageBytes: number;
  /** Bytes of data stored (used blocks, or for an incremental the changed ones). */
  storedBytes: number;
  /** Segments a changed-block map let the backup skip without reading them. */
  segmentsUnread: number;
  seconds: number;
  mibPerSec: number;
  peakRssMiB: number;
}

export async function runBackup(ctx: PluginContext, options: BackupOptions, run: RunContext): Promise<BackupResult> {
  refuseWritableMounts(options.source);
  const started = performance.now();
  await using source = await SourceReader.open(options.source);
  const planned = await planBackup(ctx, source, run);
  await using chain = options.parent ? await openChain(options.parent.path, options.passphrase) : undefined;
  const parent = chain?.links[0];
  if (parent && options.parent!.mode === 'differential' && parent.manifest.parent) {
    throw new ShadowError('PARENT_MISMATCH', `A differential backup needs a full image as its parent; ${options.parent!.path} is itself ${parent.manifest.parent.mode}`);
  }
  const segmentKey = parent?.manifest.segments ? Buffer.from(parent.manifest.segments.key, 'base64') : randomBytes(32);
  const manifest: BackupManifest = {
    ...planned,
    ...(options.sourceName !== undefined ? { source: { ...planned.source, path: options.sourceName } } : {}),
    segments: { bytes: SEGMENT_BYTES, key: segmentKey.toString('base64'), stream: planned.streams.length },
    ...(parent ? { parent: { imageId: parent.reader.header.imageId, file: options.parent!.file, mode: options.parent!.mode } } : {}),
  };
  if (parent) sameLayout({ path: options.source, manifest }, parent);
  if (options.changedBlocks && !parent) throw new ShadowError('INVALID_ARGUMENT', 'A changed-block map only applies to an incremental or differential backup: give its parent image too');
  const changedBlocks = options.changedBlocks?.(manifest.source.sizeBytes);

  const writer = await ImageWriter.create(options.sink, manifest, {
    ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
    ...(options.compressionLevel !== undefined ? { compressionLevel: options.compressionLevel } : {}),
    ...(options.chunkSizeBytes !== undefined ? { chunkSize: options.chunkSizeBytes } : {}),
    ...(options.kdf ? { kdf: options.kdf } : {}),
  });
  await using pool = new ChunkPool(writer.keysForWorkers(), writer.compressionLevel);
  const total = manifest.streams.reduce((n, s) => n + s.packedBytes, 0);
  const inFlight: Promise<EncodedChunk>[] = [];
  let index = 0;
  let stored = 0;
  let read = 0;
  // Bytes of the current stream handed to the encoders: progress within a stream, so a one-partition backup reports
  // as it goes (at least once a second through the job), not only when the stream ends.
  let streamRead = 0;
  let streamBytes = 0;
  const phase = options.parent ? options.parent.mode : 'backup';
  let segmentsSkipped = 0;
  // Writes are queued behind each other by the writer; wait only when several are outstanding, so reading, encoding
  // and writing overlap instead of taking turns.
  const writes: Promise<void>[] = [];
  const drainOne = async () => {
    const encoded = await inFlight.shift()!;
    // Once written, the record's buffer goes back to the workers: fresh multi-MiB buffers cost page faults and GC.
    const write = writer.appendEncoded(encoded).then(() => pool.recycleRecord(encoded.record));
    write.catch(() => undefined);
    writes.push(write);
    if (writes.length > 4) await writes.shift();
    stored += encoded.plainLength;
  };
  const context: CopyContext = {
    source, chunkSize: writer.chunkSizeBytes, segmentBytes: SEGMENT_BYTES, key: segmentKeyObject(segmentKey), signal: run.signal,
    allocate: (size) => pool.buffer(size),
    emit: async (streamId, offsetBytes, plain, spans, hashesInto) => {
      streamRead += plain.length;
      if (streamBytes > 0) run.progress({ phase, done: read + Math.min(streamRead, streamBytes), total });
      const hashed = spans.length > 0 && hashesInto !== undefined;
      const encoding = pool.encode({ index: index++, streamId, offsetBytes }, plain, hashed ? { key: segmentKey, spans } : undefined).then((encoded) => {
        if (hashed) {
          if (encoded.segmentHashes?.length !== spans.length * SEGMENT_HASH_BYTES) throw new ShadowError('INTERNAL', `The encoder returned no segment hashes for chunk ${encoded.index}`);
          spans.forEach((span, i) => hashesInto.set(encoded.segmentHashes!.subarray(i * SEGMENT_HASH_BYTES, (i + 1) * SEGMENT_HASH_BYTES), span.segment * SEGMENT_HASH_BYTES));
        }
        return encoded;
      });
      // Handled when drained; until then a failure must not count as an unhandled rejection.
      encoding.catch(() => undefined);
      inFlight.push(encoding);
      if (inFlight.length >= 6) await drainOne();
    },
  };
  const segments = new Map<number, StreamSegments>();
  try {
    for (const stream of manifest.streams) {
      streamRead = 0;
      streamBytes = stream.packedBytes;
      if (stream.extents) {
        await copyExtentStream(stream, context);
      } else {
        const parentSegments = parent?.segments.get(stream.id);
        const parentStream = parentSegments && parent ? { segments: parentSegments, manifest: parent.manifest.streams.find((s) => s.id === stream.id)!, ...(changedBlocks ? { changedBlocks } : {}) } : undefined;
        const copied = await copyBlockStream(stream, parentStream, context);
        segmentsSkipped += copied.segmentsSkipped;
        segments.set(stream.id, copied.segments);
      }
      read += stream.packedBytes;
      streamBytes = 0;
      run.progress({ phase, done: read, total });
    }
    // Full backups hash segments in the encoders: every chunk must be back before the segment table is written.
    while (inFlight.length > 0) await drainOne();
    const doc = encodeSegmentDoc(segments);
    for (let offset = 0; offset < doc.length; offset += writer.chunkSizeBytes) {
      await context.emit(manifest.segments!.stream, offset, doc.slice(offset, offset + writer.chunkSizeBytes), []);
    }
    while (inFlight.length > 0) await drainOne();
    await Promise.all(writes);
  } catch (error) {
    // Let every encode settle before the pool goes away, so no worker reply lands on a closed port.
    await Promise.allSettled([...inFlight, ...writes]);
    throw error;
  }
  const result = await writer.finish();
  const seconds = (performance.now() - started) / 1000;
  return {
    imageId: result.imageId, manifest, chunkCount: result.chunkCount, imageBytes: result.bytesWritten, storedBytes: stored, segmentsUnread: segmentsSkipped, seconds,
    mibPerSec: read / 1048576 / Math.max(seconds, 1e-6), peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}
