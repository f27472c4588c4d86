// Where a volume's files begin and end on it: cut hints for the content chunker. The volume is mounted read-only (no
// journal or log replay) on a private read-only loop device over the stream's bytes, every regular file's extents
// are read with FIEMAP (natively, native/src/file_boundaries.cc), and the first and last byte of each extent become
// chunk boundaries. Equal files then make equal chunks wherever they lie, and a changed file spoils no chunk of its
// neighbours. Nothing here is required: a volume that cannot be mounted is simply chunked by content alone.
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachLoop, detachLoop, fileBoundaryOffsets } from '../../../native/index.js';
import type { Logger } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';
import type { StreamManifest } from '../engine/backup-manifest.js';
import { MOUNT_OPTIONS } from '../engine/browse-session.js';

/**
 * Sorted, distinct absolute byte offsets on the source where a file extent starts or ends, within `stream`; undefined
 * when its filesystem cannot be mounted here (then the chunker cuts by content alone, and the log says why).
 */
export async function fileBoundaries(source: string, stream: StreamManifest, log: Logger): Promise<Float64Array | undefined> {
  const how = MOUNT_OPTIONS[stream.filesystem];
  if (!how || (stream.kind !== 'partition' && stream.kind !== 'volume')) return undefined;
  const started = performance.now();
  let device: string | undefined;
  let mountpoint: string | undefined;
  let mounted = false;
  try {
    device = attachLoop(source, { readOnly: true, offsetBytes: BigInt(stream.startBytes), sizeLimitBytes: BigInt(stream.sizeBytes) });
    mountpoint = await mkdtemp(join(tmpdir(), 'shadowdisk-boundaries-'));
    await runTool('mount', ['-t', how.type, '-o', how.options, device, mountpoint]);
    mounted = true;
    const found = await fileBoundaryOffsets(mountpoint);
    // Relative to the volume; the chunker works in offsets on the source.
    const offsets = found.offsets.map((o) => o + stream.startBytes);
    log.info(`File boundaries of ${stream.filesystem} stream ${stream.id}: ${found.files} files, ${offsets.length} boundaries in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    return offsets;
  } catch (error) {
    log.info(`Stream ${stream.id} (${stream.filesystem}) is chunked by content alone: its files could not be listed (${(error as Error).message})`);
    return undefined;
  } finally {
    if (mounted) await runTool('umount', [mountpoint!]).catch((error: unknown) => log.warn(`Cannot unmount ${mountpoint}: ${(error as Error).message}`));
    if (mountpoint) await rmdir(mountpoint).catch(() => undefined);
    if (device) detachLoop(device);
  }
}

/** The boundary walks of a backup's streams, started together (they overlap the repository's index reads). */
export interface BoundaryWalks extends AsyncDisposable {
  of(stream: StreamManifest): Promise<Float64Array | undefined>;
}

export function walkFileBoundaries(source: string, streams: readonly StreamManifest[], enabled: boolean, log: Logger): BoundaryWalks {
  const walks = new Map(streams.map((s) => [s.id, enabled ? fileBoundaries(source, s, log) : Promise.resolve(undefined)]));
  return {
    of: (stream) => walks.get(stream.id) ?? Promise.resolve(undefined),
    // A backup that fails early still waits for its mounts to be released.
    [Symbol.asyncDispose]: async () => void (await Promise.allSettled(walks.values())),
  };
}

/**
 * [offset, offset + length) split at the boundaries inside it; `cutBefore` marks a part that starts on a boundary.
 * `cursor.at` is the index of the first boundary not yet passed and is advanced: ranges must come in ascending order.
 */
export function* splitAtBoundaries(boundaries: Float64Array, cursor: { at: number }, offset: number, length: number): Generator<{ offset: number; length: number; cutBefore: boolean }> {
  const end = offset + length;
  while (cursor.at < boundaries.length && boundaries[cursor.at]! < offset) cursor.at++;
  let at = offset;
  let cutBefore = false;
  while (cursor.at < boundaries.length && boundaries[cursor.at]! < end) {
    const b = boundaries[cursor.at++]!;
    if (b > at) yield { offset: at, length: b - at, cutBefore };
    cutBefore = true;
    at = b;
  }
  if (end > at) yield { offset: at, length: end - at, cutBefore };
}
