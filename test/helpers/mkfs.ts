// Makes a real filesystem on a device or image file with the filesystem's own mkfs tool.
import { run } from './run.js';

export type TestFsType = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'btrfs' | 'vfat' | 'ntfs' | 'swap';

export async function mkfs(device: string, type: TestFsType, options: { label?: string } = {}): Promise<void> {
  const label = options.label;
  switch (type) {
    case 'ext2': case 'ext3': case 'ext4':
      await run(`mkfs.${type}`, ['-F', '-q', ...(label ? ['-L', label] : []), device]);
      return;
    case 'xfs':
      await run('mkfs.xfs', ['-f', '-q', ...(label ? ['-L', label] : []), device]);
      return;
    case 'btrfs':
      await run('mkfs.btrfs', ['-f', '-q', ...(label ? ['-L', label] : []), device]);
      return;
    case 'vfat':
      await run('mkfs.vfat', [...(label ? ['-n', label] : []), device]);
      return;
    case 'ntfs':
      await run('mkfs.ntfs', ['-F', '-f', '-q', ...(label ? ['-L', label] : []), device]);
      return;
    case 'swap':
      await run('mkswap', [...(label ? ['-L', label] : []), device]);
      return;
  }
}
