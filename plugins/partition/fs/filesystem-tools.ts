// How each filesystem family is made, checked (read-only) and labelled with its own tools.
import type { FilesystemCheck } from '../../../sdk/index.js';

export interface FilesystemTools {
  readonly types: readonly string[];
  /** Bytes of UTF-8 (characters for vfat, which also upper-cases). */
  readonly labelLimit: number;
  mkfs(device: string, type: string, label?: string): [string, string[]];
  /** The read-only check, and the exit codes that mean "clean". */
  check(device: string, type: string): { command: [string, string[]]; cleanCodes: readonly number[] } | undefined;
  setLabel(device: string, type: string, label: string): [string, string[]];
}

const withLabel = (flag: string, label: string | undefined) => (label === undefined ? [] : [flag, label]);

export const FILESYSTEM_TOOLS: readonly FilesystemTools[] = [
  {
    types: ['ext2', 'ext3', 'ext4'], labelLimit: 16,
    mkfs: (dev, type, label) => [`mkfs.${type}`, ['-F', '-q', ...withLabel('-L', label), dev]],
    check: (dev) => ({ command: ['e2fsck', ['-f', '-n', dev]], cleanCodes: [0] }),
    setLabel: (dev, _t, label) => ['e2label', [dev, label]],
  },
  {
    types: ['xfs'], labelLimit: 12,
    mkfs: (dev, _t, label) => ['mkfs.xfs', ['-f', '-q', ...withLabel('-L', label), dev]],
    check: (dev) => ({ command: ['xfs_repair', ['-n', dev]], cleanCodes: [0] }),
    setLabel: (dev, _t, label) => ['xfs_admin', ['-L', label, dev]],
  },
  {
    types: ['btrfs'], labelLimit: 255,
    mkfs: (dev, _t, label) => ['mkfs.btrfs', ['-f', '-q', ...withLabel('-L', label), dev]],
    check: (dev) => ({ command: ['btrfs', ['check', '--readonly', dev]], cleanCodes: [0] }),
    setLabel: (dev, _t, label) => ['btrfs', ['filesystem', 'label', dev, label]],
  },
  {
    types: ['vfat'], labelLimit: 11,
    mkfs: (dev, _t, label) => ['mkfs.vfat', [...withLabel('-n', label), dev]],
    check: (dev) => ({ command: ['fsck.fat', ['-n', dev]], cleanCodes: [0] }),
    setLabel: (dev, _t, label) => ['fatlabel', [dev, label]],
  },
  {
    types: ['ntfs'], labelLimit: 128,
    mkfs: (dev, _t, label) => ['mkfs.ntfs', ['-F', '-f', '-q', ...withLabel('-L', label), dev]],
    check: (dev) => ({ command: ['ntfsfix', ['--no-action', dev]], cleanCodes: [0] }),
    setLabel: (dev, _t, label) => ['ntfslabel', [dev, label]],
  },
  {
    types: ['exfat'], labelLimit: 15,
    mkfs: (dev, _t, label) => ['mkfs.exfat', [...withLabel('-L', label), dev]],
    check: (dev) => ({ command: ['fsck.exfat', ['-n', dev]], cleanCodes: [0] }),
    setLabel: (dev, _t, label) => ['exfatlabel', [dev, label]],
  },
  {
    // Swap has no checker; its header is judged by blkid and swaplabel.
    types: ['swap'], labelLimit: 16,
    mkfs: (dev, _t, label) => ['mkswap', [...withLabel('-L', label), dev]],
    check: () => undefined,
    setLabel: (dev, _t, label) => ['swaplabel', ['-L', label, dev]],
  },
];

export function toolsFor(type: string): FilesystemTools | undefined {
  return FILESYSTEM_TOOLS.find((t) => t.types.includes(type));
}

export type { FilesystemCheck };
