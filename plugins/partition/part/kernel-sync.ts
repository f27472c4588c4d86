// Tells the kernel about a block device's new partitions through BLKPG: drop nodes that no longer match, add new ones.
// (Extended partitions get no node: nothing can be done with one, and libblkid only ever probes its first sector.)
import { basename } from 'node:path';
import { addPartitionNode, deletePartitionNode, resizePartitionNode } from '../../../native/index.js';
import type { Layout } from '../table/layout.js';
import { listDir, readSysNumber } from '../sysfs.js';

export interface KernelPartition {
  number: number;
  startLba512: number;
  sizeSectors512: number;
}

/** The partitions the kernel has for a disk now, in 512-byte units as sysfs reports them. */
export async function kernelPartitions(disk: string): Promise<KernelPartition[]> {
  const name = basename(disk);
  const out: KernelPartition[] = [];
  for (const child of await listDir(`/sys/block/${name}`)) {
    const number = await readSysNumber(`/sys/block/${name}/${child}/partition`);
    if (number === undefined) continue;
    out.push({ number, startLba512: (await readSysNumber(`/sys/block/${name}/${child}/start`)) ?? 0, sizeSectors512: (await readSysNumber(`/sys/block/${name}/${child}/size`)) ?? 0 });
  }
  return out;
}

export async function syncKernelPartitions(disk: string, layout: Layout): Promise<{ added: number[]; removed: number[] }> {
  const scale = layout.geometry.sectorSize / 512;
  const wanted = layout.partitions.filter((p) => p.mbr?.role !== 'extended');
  const existing = await kernelPartitions(disk);
  const same = (k: KernelPartition) => wanted.some((p) => p.number === k.number && p.startLba * scale === k.startLba512 && p.sizeSectors * scale === k.sizeSectors512);
  const removed: number[] = [];
  const resized: number[] = [];
  for (const k of existing) {
    if (same(k)) continue;
    // Same number and start, another size: resized in place, which a mounted partition allows (online grow).
    const grown = wanted.find((p) => p.number === k.number && p.startLba * scale === k.startLba512);
    if (grown) {
      const sectorSize = BigInt(layout.geometry.sectorSize);
      resizePartitionNode(disk, k.number, BigInt(grown.startLba) * sectorSize, BigInt(grown.sizeSectors) * sectorSize);
      resized.push(k.number);
      continue;
    }
    deletePartitionNode(disk, k.number);
    removed.push(k.number);
  }
  const added: number[] = [];
  for (const p of wanted) {
    if (existing.some((k) => same(k) && k.number === p.number) || resized.includes(p.number)) continue;
    const sectorSize = BigInt(layout.geometry.sectorSize);
    addPartitionNode(disk, p.number, BigInt(p.startLba) * sectorSize, BigInt(p.sizeSectors) * sectorSize);
    added.push(p.number);
  }
  return { added, removed };
}
