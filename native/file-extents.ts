// FIEMAP: where a file's bytes live on its device, the basis of used-block maps and of reflink checks.
import { withFd } from './fd.js';
import { native } from './load.js';

export interface FileExtent {
  logicalBytes: bigint;
  physicalBytes: bigint;
  lengthBytes: bigint;
  /** A bit set of FileExtentFlag values. */
  flags: number;
}

/** fe_flags bits from <linux/fiemap.h> (kernel ABI; a test checks them against the addon's constants). */
export const FileExtentFlag = Object.freeze({
  Last: 0x1,
  Unknown: 0x2,
  Delalloc: 0x4,
  Encoded: 0x8,
  DataEncrypted: 0x80,
  NotAligned: 0x100,
  DataInline: 0x200,
  DataTail: 0x400,
  Unwritten: 0x800,
  Merged: 0x1000,
  Shared: 0x2000,
} as const);

// Large batches: each FIEMAP call walks the extent tree from its start again (a shadow set's hold maps files of ten
// thousand extents and more).
const EXTENTS_PER_CALL = 4096;

/** All extents of `path`, in file order; data is synced first (FIEMAP_FLAG_SYNC) so delayed allocations have addresses. */
export function fileExtents(path: string): FileExtent[] {
  const addon = native();
  const { O_RDONLY, FIEMAP_FLAG_SYNC } = addon.constants;
  return withFd(path, O_RDONLY, (fd) => {
    const extents: FileExtent[] = [];
    for (let startBytes = 0n; ; ) {
      // Synced once, by the first call: a sync per batch would write back again whatever arrived meanwhile.
      const batch = addon.fiemap(fd, path, startBytes, startBytes === 0n ? FIEMAP_FLAG_SYNC : 0, EXTENTS_PER_CALL);
      extents.push(...batch);
      const last = batch.at(-1);
      if (last === undefined || (last.flags & FileExtentFlag.Last) !== 0) return extents;
      startBytes = last.logicalBytes + last.lengthBytes;
    }
  });
}

/**
 * The device byte offsets where the extents of the regular files under `root` start and end (one filesystem; links
 * not followed), sorted and distinct, read on libuv's pool. Unreadable files and extents without a place of their own
 * (inline, delayed, encoded) give none.
 */
export function fileBoundaryOffsets(root: string): Promise<{ offsets: Float64Array; files: number }> {
  return native().fileBoundaries(root);
}
