// A copied filesystem gets a new UUID (volume serial for FAT and NTFS), so two of them never meet under one identity:
// mount by UUID would pick either, and btrfs would take the pair for one filesystem on two devices.
import type { RunContext } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';
import { probeFilesystem } from '../part/partition-device.js';

export async function giveNewFilesystemId(device: string, number: number, run: RunContext): Promise<void> {
  const type = await probeFilesystem(device, run.signal);
  const opts = { signal: run.signal };
  switch (type) {
    case 'ext2': case 'ext3': case 'ext4':
      await runTool('e2fsck', ['-f', '-p', device], { ...opts, okCodes: [0, 1] });
      await runTool('tune2fs', ['-U', 'random', device], opts);
      return;
    case 'xfs': await runTool('xfs_admin', ['-U', 'generate', device], opts); return;
    case 'btrfs': await runTool('btrfstune', ['-f', '-u', device], opts); return;
    case 'ntfs': await runTool('ntfslabel', ['--new-serial', device], opts); return;
    case 'vfat': await runTool('fatlabel', ['--volume-id', '--reset', device], opts); return;
    default: run.log.warn(`Partition ${number} holds ${type ?? 'no filesystem blkid knows'}; its copy keeps the same identity`);
  }
}
