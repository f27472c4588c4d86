// XFS snapshots carry the origin's UUID (XFS refuses a second mount of it without `nouuid`) and may hold a log to
// replay (a read-only device cannot replay it without `norecovery`). So a throwaway writable copy is log-recovered
// and given a new UUID once, and its read-only loop device is what mounts with no options.
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachLoop, cloneFile, detachLoop, isNativeError } from '../../native/index.js';
import { runTool } from '../../sdk/node.js';
import { attachReadOnly, type LoopGeometry } from './providers/loop-exposure.js';

/** Copies `source` to `copyPath` (a reflink where the filesystem shares extents, else a sparse copy). */
async function copyForRecovery(source: string, copyPath: string): Promise<void> {
  try {
    cloneFile(source, copyPath);
  } catch (error) {
    if (!isNativeError(error) || !['EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOTTY'].includes(error.code)) throw error;
    await runTool('cp', ['--sparse=always', source, copyPath]);
  }
}

/** Returns a read-only loop device on a log-recovered, re-UUIDed copy of the XFS in `source` (at `geometry`). */
export async function mountableXfsCopy(source: string, geometry: LoopGeometry | undefined, copyPath: string): Promise<string> {
  await copyForRecovery(source, copyPath);
  const writable = attachLoop(copyPath, geometry ? { offsetBytes: BigInt(geometry.offsetBytes), sizeLimitBytes: BigInt(geometry.sizeLimitBytes), blockSize: geometry.blockSize } : {});
  try {
    const mountpoint = mkdtempSync(join(tmpdir(), 'shadowdisk-xfs-recovery-'));
    try {
      // Mounting read-write replays the log; nouuid only here, on the throwaway copy, while the origin is mounted.
      await runTool('mount', ['-t', 'xfs', '-o', 'nouuid', writable, mountpoint]);
      await runTool('umount', [mountpoint]);
    } finally {
      rmdirSync(mountpoint);
    }
    await runTool('xfs_admin', ['-U', 'generate', writable]);
  } finally {
    detachLoop(writable);
  }
  return attachReadOnly(copyPath, geometry);
}
