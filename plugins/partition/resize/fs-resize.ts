// Each filesystem grown or shrunk by its own tool, in the order that keeps it inside its partition: shrink before
// the partition does, grow after it did. Minimum sizes come from the filesystem (resize2fs -P, ntfsresize --info,
// btrfs inspect-internal min-dev-size, fatresize --info); XFS only grows. Mounted ext4, XFS and btrfs grow online.
import { readFileSync } from 'node:fs';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';
import { fatMinimumSizeBytes, resizeFat } from './fat-resize.js';

export const RESIZABLE = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'ntfs', 'vfat'] as const;
const BTRFS_RESIZE_FLOOR_BYTES = 256 * 1024 * 1024;
const CAP_SYS_RESOURCE = 24;

/** Online ext2/3/4 resizing (EXT4_IOC_RESIZE_FS) needs CAP_SYS_RESOURCE, which containers often drop. */
export function canResizeExtOnline(): boolean {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return line !== null && ((BigInt(`0x${line[1]}`) >> BigInt(CAP_SYS_RESOURCE)) & 1n) === 1n;
}

function refuseType(type: string, what: string): never {
  throw new ShadowError('UNSUPPORTED', `Cannot ${what} a ${type} filesystem: ${type === 'xfs' ? 'XFS can only grow' : `no tool here resizes ${type}`}; ${type === 'xfs' ? 'back it up, recreate it smaller and restore' : 'resize a partition holding ext2/3/4, XFS (grow), btrfs, NTFS or vfat (FAT16/FAT32)'}`);
}

/** Runs `use` with the device mounted on a private folder (btrfs and XFS resize only through a mountpoint). */
async function withMounted<T>(device: string, type: string, run: RunContext, use: (mountpoint: string) => Promise<T>, readOnly = false): Promise<T> {
  const mountpoint = await mkdtemp(join(tmpdir(), 'shadowdisk-resize-'));
  try {
    await runTool('mount', ['-t', type, ...(readOnly ? ['-o', 'ro'] : []), device, mountpoint], { signal: run.signal });
    try {
      return await use(mountpoint);
    } finally {
      await runTool('umount', [mountpoint]);
    }
  } finally {
    await rmdir(mountpoint).catch(() => undefined);
  }
}

/** The smallest size the filesystem on `device` can be shrunk to, in bytes. */
export async function minimumSizeBytes(device: string, type: string, run: RunContext): Promise<number> {
  switch (type) {
    case 'ext2': case 'ext3': case 'ext4': {
      const blocks = Number(/minimum size of the filesystem: (\d+)/.exec((await runTool('resize2fs', ['-P', device], { signal: run.signal })).stdout)?.[1]);
      const blockSize = Number(/Block size:\s+(\d+)/.exec((await runTool('dumpe2fs', ['-h', device], { signal: run.signal })).stdout)?.[1]);
      if (!blocks || !blockSize) throw new ShadowError('IO_ERROR', `Cannot read the minimum size of the ${type} filesystem on ${device} from resize2fs -P and dumpe2fs -h`);
      return blocks * blockSize;
    }
    case 'ntfs': {
      const out = (await runTool('ntfsresize', ['--info', '--force', device], { signal: run.signal, okCodes: [0, 1] })).stdout;
      const bytes = Number(/You might resize at (\d+) bytes/.exec(out)?.[1]);
      if (!bytes) throw new ShadowError('IO_ERROR', `ntfsresize --info gives no minimum size for ${device}: ${out.trim().split('\n').slice(-2).join(' ')}`);
      return bytes;
    }
    case 'btrfs':
      return withMounted(device, 'btrfs', run, async (mp) => {
        const out = (await runTool('btrfs', ['inspect-internal', 'min-dev-size', mp], { signal: run.signal })).stdout;
        // The kernel refuses to resize a btrfs device below 256 MiB (EINVAL), whatever it holds.
        return Math.max(BTRFS_RESIZE_FLOOR_BYTES, Number(/^(\d+) bytes/.exec(out.trim())?.[1] ?? NaN));
      }, true);
    case 'vfat':
      return fatMinimumSizeBytes(device, run);
    default:
      return refuseType(type, 'shrink');
  }
}

/** Shrinks the (unmounted) filesystem on `device` to `sizeBytes`. */
export async function shrinkFilesystem(device: string, type: string, sizeBytes: number, run: RunContext): Promise<void> {
  switch (type) {
    case 'ext2': case 'ext3': case 'ext4':
      // resize2fs wants a freshly checked filesystem; -p only fixes what is safe to fix without asking.
      await runTool('e2fsck', ['-f', '-p', device], { signal: run.signal, okCodes: [0, 1] });
      await runTool('resize2fs', [device, `${Math.floor(sizeBytes / 1024)}K`], { signal: run.signal });
      return;
    case 'ntfs':
      await runTool('ntfsresize', ['--force', '--size', String(sizeBytes), device], { signal: run.signal });
      return;
    case 'btrfs':
      await withMounted(device, 'btrfs', run, (mp) => runTool('btrfs', ['filesystem', 'resize', String(sizeBytes), mp], { signal: run.signal }).then(() => undefined));
      return;
    case 'vfat':
      await resizeFat(device, sizeBytes, run);
      return;
    default:
      refuseType(type, 'shrink');
  }
}

/** Grows the filesystem on `device` to fill it; `mountpoint` when it is mounted (online grow). */
export async function growFilesystem(device: string, type: string, mountpoint: string | undefined, run: RunContext): Promise<void> {
  switch (type) {
    case 'ext2': case 'ext3': case 'ext4':
      if (!mountpoint) await runTool('e2fsck', ['-f', '-p', device], { signal: run.signal, okCodes: [0, 1] });
      await runTool('resize2fs', [device], { signal: run.signal });
      return;
    case 'ntfs': case 'vfat':
      if (mountpoint) throw new ShadowError('TARGET_BUSY', `${device} (${type}) is mounted on ${mountpoint}; ${type} grows only unmounted`);
      if (type === 'vfat') await resizeFat(device, undefined, run);
      else await runTool('ntfsresize', ['--force', device], { signal: run.signal });
      return;
    case 'xfs': case 'btrfs': {
      const grow = (mp: string) => runTool(type === 'xfs' ? 'xfs_growfs' : 'btrfs', type === 'xfs' ? [mp] : ['filesystem', 'resize', 'max', mp], { signal: run.signal }).then(() => undefined);
      if (mountpoint) await grow(mountpoint);
      else await withMounted(device, type, run, grow);
      return;
    }
    default:
      refuseType(type, 'grow');
  }
}
