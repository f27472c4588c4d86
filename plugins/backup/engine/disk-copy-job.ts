// `disk copy`: the backup engine's plan of a source (table sectors, boot gap, each filesystem's used blocks) written
// straight onto a target, with no image in between; the target checks and table handling are the restore's.
import { flushBlockDevice } from '../../../native/index.js';
import type { PluginContext, RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { sharedStorage } from './device-identity.js';
import { mountsOf } from './mount-state.js';
import { bySegment, includedRanges } from './packed-stream.js';
import { readWindows, WINDOW_BYTES, windowsOf } from './read-windows.js';
import { checkTarget, openTarget, zeroExcluded, type RestorePlan } from './restore-target.js';
import { planBackup } from './source-planner.js';
import type { SourceReader } from './source-reader.js';

/** The checks that need no reading: not onto itself, and a source nothing is writing to. */
export function checkCopyEnds(source: string, target: string): void {
  const shared = sharedStorage(source, target);
  if (shared) throw new ShadowError('INVALID_ARGUMENT', `Cannot copy ${source} onto ${target}: ${shared}. Nothing was written; give a different target`);
  const writable = mountsOf(source).filter((m) => !m.readOnly);
  if (writable.length > 0) {
    throw new ShadowError('TARGET_BUSY', `Cannot copy ${source} while it is in use: ${writable.map((m) => `${m.device} is mounted read-write on ${m.mountpoint}`).join('; ')}. Unmount it or remount it read-only; nothing was written`);
  }
}

/** Reads the source's layout and used-block maps, then checks that the target can take it. */
export async function planDiskCopy(ctx: PluginContext, source: SourceReader, target: string, run: RunContext): Promise<RestorePlan> {
  const manifest = await planBackup(ctx, source, run);
  return checkTarget(manifest, target, 'copy', 'the source');
}

/** Bytes the copy will read and write: the included blocks of every stream. */
export function copyBytes(plan: RestorePlan): number {
  return plan.manifest.streams.reduce((n, s) => n + s.packedBytes, 0);
}

/**
 * Writes every stream's included blocks to the same place on the target; a zero-elided stream (a filesystem the
 * handlers cannot read) also gets zeros where it held zeros. Returns the bytes written.
 */
export async function copyToTarget(source: SourceReader, plan: RestorePlan, run: RunContext): Promise<number> {
  const total = copyBytes(plan);
  const handle = await openTarget(plan.target, plan.isBlockDevice);
  let done = 0;
  let zeros = 0;
  try {
    run.progress({ phase: 'copy', done, total });
    for (const stream of plan.manifest.streams) {
      // Windows never straddle a 4 MiB boundary, so reads stay large and aligned whatever the fragmentation.
      const windows = windowsOf(bySegment(includedRanges(stream), 0, WINDOW_BYTES));
      for await (const { window, data } of readWindows(source, windows, run.signal)) {
        for (const group of window.groups) {
          for (const range of group.ranges) {
            await handle.write(data, range.offsetBytes - window.start, range.lengthBytes, range.offsetBytes);
            done += range.lengthBytes;
          }
        }
        run.progress({ phase: 'copy', done, total });
      }
      if (stream.zeroElided) zeros += await zeroExcluded(handle, stream, Buffer.from(stream.bitmap ?? '', 'base64'));
    }
    run.progress({ phase: 'sync', done, total });
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (plan.isBlockDevice) flushBlockDevice(plan.target);
  return done + zeros;
}
