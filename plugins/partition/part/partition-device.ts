// A partition as a block device: the kernel's node for a partition of a block device, or a loop device over the
// partition's byte range of an image file (released afterwards).
import { existsSync } from 'node:fs';
import { attachLoop, detachLoop } from '../../../native/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';
import type { DiskGeometry, LayoutPartition } from '../table/layout.js';
import { partitionPath } from '../ops/sfdisk-dump.js';

export async function withPartitionDevice<T>(disk: string, isBlockDevice: boolean, geometry: DiskGeometry, partition: LayoutPartition, use: (device: string) => Promise<T>): Promise<T> {
  if (isBlockDevice) {
    const node = partitionPath(disk, partition.number);
    if (!existsSync(node)) throw new ShadowError('NOT_FOUND', `The kernel has no node ${node} for partition ${partition.number}; apply the plan first, or run 'partx -a ${disk}'`);
    return use(node);
  }
  const device = attachLoop(disk, {
    offsetBytes: BigInt(partition.startLba) * BigInt(geometry.sectorSize),
    sizeLimitBytes: BigInt(partition.sizeSectors) * BigInt(geometry.sectorSize),
    blockSize: geometry.sectorSize,
  });
  try {
    return await use(device);
  } finally {
    detachLoop(device);
  }
}

/** The filesystem type blkid probes on a device, or undefined when it finds none. */
export async function probeFilesystem(device: string, signal?: AbortSignal): Promise<string | undefined> {
  const result = await runTool('blkid', ['-p', '-o', 'value', '-s', 'TYPE', device], { okCodes: [0, 2], ...(signal ? { signal } : {}) });
  return result.stdout.trim() || undefined;
}
