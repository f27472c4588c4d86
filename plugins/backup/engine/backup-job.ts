// `image backup`: plan the streams, then read → encode on worker threads → write in order, with bounded memory.
import type { PluginContext, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { ImageWriter, type ImageSink } from '../image/index.js';
import type { KdfParams } from '../image/image-keys.js';
import type { EncodedChunk } from '../image/chunk-codec.js';
import type { BackupManifest } from './backup-manifest.js';
import { ChunkPool } from './chunk-pool.js';
import { mountsOf } from './mount-state.js';
import { includedRanges, sliceRanges } from './packed-stream.js';
import { planBackup } from './source-planner.js';
import { SourceReader } from './source-reader.js';

export interface BackupOptions {
  source: string;
  sink: ImageSink;
  passphrase?: string;
  compressionLevel?: number;
  chunkSizeBytes?: number;
  kdf?: KdfParams;
}

export interface BackupResult {
  imageId: string;
  manifest: BackupManifest;
  chunkCount: number;
  imageBytes: number;
  packedBytes: number;
  seconds: number;
  mibPerSec: number;
  peakRssMiB: number;
}

export async function runBackup(ctx: PluginContext, options: BackupOptions, run: RunContext): Promise<BackupResult> {
  const writable = mountsOf(options.source).filter((m) => !m.readOnly);
  if (writable.length > 0) {
    throw new ShadowError('TARGET_BUSY', `Cannot make a cold image of ${options.source}: ${writable.map((m) => `${m.device} is mounted read-write on ${m.mountpoint}`).join('; ')}. Unmount it or remount it read-only`);
  }
  const started = performance.now();
  await using source = await SourceReader.open(options.source);
  const manifest = await planBackup(ctx, source, run);
  const writer = await ImageWriter.create(options.sink, manifest, {
    ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
    ...(options.compressionLevel !== undefined ? { compressionLevel: options.compressionLevel } : {}),
    ...(options.chunkSizeBytes !== undefined ? { chunkSize: options.chunkSizeBytes } : {}),
    ...(options.kdf ? { kdf: options.kdf } : {}),
  });
  await using pool = new ChunkPool(writer.keysForWorkers(), writer.compressionLevel);
  const total = manifest.streams.reduce((n, s) => n + s.packedBytes, 0);
  const maxInFlight = 6;
  const inFlight: Promise<EncodedChunk>[] = [];
  let done = 0;
  let index = 0;
  const drainOne = async () => {
    const encoded = await inFlight.shift()!;
    await writer.appendEncoded(encoded);
    done += encoded.plainLength;
    run.progress({ phase: 'backup', done, total });
  };
  try {
    for (const stream of manifest.streams) {
      const ranges = includedRanges(stream);
      for (let offset = 0; offset < stream.packedBytes; offset += writer.chunkSizeBytes) {
        run.signal.throwIfAborted();
        const length = Math.min(writer.chunkSizeBytes, stream.packedBytes - offset);
        const plain = new Uint8Array(length);
        let at = 0;
        for (const range of sliceRanges(ranges, offset, length)) {
          await source.readInto(plain.subarray(at, at + range.lengthBytes), range.offsetBytes);
          at += range.lengthBytes;
        }
        inFlight.push(pool.encode({ index: index++, streamId: stream.id, offsetBytes: offset }, plain));
        if (inFlight.length >= maxInFlight) await drainOne();
      }
    }
    while (inFlight.length > 0) await drainOne();
  } catch (error) {
    // Let every encode settle before the pool goes away, so no worker reply lands on a closed port.
    await Promise.allSettled(inFlight);
    throw error;
  }
  const result = await writer.finish();
  const seconds = (performance.now() - started) / 1000;
  return {
    imageId: result.imageId, manifest, chunkCount: result.chunkCount, imageBytes: result.bytesWritten, packedBytes: total, seconds,
    mibPerSec: total / 1048576 / Math.max(seconds, 1e-6), peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}
