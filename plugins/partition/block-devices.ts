// The disk inventory: block devices from /sys with sizes from the native ioctls, and image files, with what makes each busy.
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { blockDeviceGeometry } from '../../native/index.js';
import { ShadowError } from '../../sdk/index.js';
import { diskProperties, IMAGE_FILE_PROPERTIES, type DiskProperties } from './disk-properties.js';
import { listDir, mountpointsByDevice, readSysNumber, readSysText, swapDevices } from './sysfs.js';

export interface PartitionInfo {
  name: string;
  path: string;
  number: number;
  startBytes: number;
  sizeBytes: number;
  mountpoints: string[];
  holders: string[];
  swap: boolean;
}

export interface DiskInfo extends DiskProperties {
  kind: 'block-device' | 'image-file';
  name: string;
  path: string;
  sizeBytes: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  model: string | null;
  serial: string | null;
  rotational: boolean | null;
  readOnly: boolean;
  removable: boolean;
  /** For loop devices: what they show; for image files: the loop devices showing them. */
  loop: { backingFile: string; offsetBytes: number; sizeLimitBytes: number } | null;
  attachedAs: string[];
  partitions: PartitionInfo[];
  mountpoints: string[];
  holders: string[];
  swap: boolean;
  busy: boolean;
  /** Why the disk counts as busy: `/dev/loop3p1 is mounted on /mnt`, ... */
  busyReasons: string[];
}

const SKIPPED = /^(ram|zram|fd|sr)\d/;

interface KernelView {
  mounts: Map<string, string[]>;
  swaps: Set<string>;
}

/** Every block device with media (loop devices only while attached). */
export async function listBlockDevices(): Promise<DiskInfo[]> {
  const view = await kernelView();
  const disks: DiskInfo[] = [];
  for (const name of await listDir('/sys/block')) {
    if (SKIPPED.test(name)) continue;
    if ((await readSysNumber(`/sys/block/${name}/size`)) === 0) continue;
    disks.push(await describeBlockDevice(name, view));
  }
  return disks;
}

/** One device or image file by path. */
export async function describePath(path: string): Promise<DiskInfo> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new ShadowError('NOT_FOUND', `Cannot inspect '${path}': ${error.code === 'ENOENT' ? 'no such file or device' : error.message}; give a block device like /dev/sda or an image file`);
  });
  const view = await kernelView();
  if (info.isBlockDevice()) {
    const name = basename((await readSysText(`/sys/dev/block/${major(info.rdev)}:${minor(info.rdev)}/uevent`))?.match(/DEVNAME=(\S+)/)?.[1] ?? basename(absolute));
    if ((await readSysText(`/sys/block/${name}/dev`)) === undefined) {
      throw new ShadowError('INVALID_ARGUMENT', `'${path}' is a partition, not a disk; give its disk (run 'shadowdisk disks' to see which one holds it)`);
    }
    return describeBlockDevice(name, view);
  }
  if (!info.isFile()) throw new ShadowError('INVALID_ARGUMENT', `'${path}' is neither a block device nor an image file`);
  const attachedAs = await loopsShowing(absolute);
  return {
    kind: 'image-file', name: basename(absolute), path: absolute, sizeBytes: info.size, logicalSectorSize: 512, physicalSectorSize: 512,
    model: null, serial: null, rotational: null, ...IMAGE_FILE_PROPERTIES, readOnly: false, removable: false, loop: null, attachedAs,
    partitions: [], mountpoints: [], holders: [], swap: false,
    busy: attachedAs.length > 0, busyReasons: attachedAs.map((dev) => `it is attached as ${dev}`),
  };
}

async function kernelView(): Promise<KernelView> {
  return { mounts: await mountpointsByDevice(), swaps: await swapDevices() };
}

async function describeBlockDevice(name: string, view: KernelView): Promise<DiskInfo> {
  const sys = `/sys/block/${name}`;
  const path = `/dev/${name}`;
  const geometry = await geometryOf(path, sys);
  const partitions: PartitionInfo[] = [];
  for (const child of await listDir(sys)) {
    const number = await readSysNumber(`${sys}/${child}/partition`);
    if (number === undefined) continue;
    const dev = (await readSysText(`${sys}/${child}/dev`)) ?? '';
    partitions.push({
      name: child, path: `/dev/${child}`, number,
      startBytes: ((await readSysNumber(`${sys}/${child}/start`)) ?? 0) * 512,
      sizeBytes: ((await readSysNumber(`${sys}/${child}/size`)) ?? 0) * 512,
      mountpoints: view.mounts.get(dev) ?? [],
      holders: await listDir(`${sys}/${child}/holders`),
      swap: view.swaps.has(`/dev/${child}`),
    });
  }
  partitions.sort((a, b) => a.number - b.number);
  const dev = (await readSysText(`${sys}/dev`)) ?? '';
  const backingFile = await readSysText(`${sys}/loop/backing_file`);
  const disk = {
    kind: 'block-device' as const, name, path, ...geometry,
    model: (await readSysText(`${sys}/device/model`)) || null,
    serial: (await readSysText(`${sys}/device/serial`)) || (await readSysText(`${sys}/serial`)) || null,
    rotational: await readSysNumber(`${sys}/queue/rotational`).then((v) => (v === undefined ? null : v === 1)),
    ...(await diskProperties(name, path)),
    readOnly: (await readSysNumber(`${sys}/ro`)) === 1,
    removable: (await readSysNumber(`${sys}/removable`)) === 1,
    loop: backingFile === undefined ? null : {
      backingFile,
      offsetBytes: (await readSysNumber(`${sys}/loop/offset`)) ?? 0,
      sizeLimitBytes: (await readSysNumber(`${sys}/loop/sizelimit`)) ?? 0,
    },
    attachedAs: [],
    partitions,
    mountpoints: view.mounts.get(dev) ?? [],
    holders: await listDir(`${sys}/holders`),
    swap: view.swaps.has(path),
  };
  const busyReasons = busyReasonsOf(disk);
  return { ...disk, busy: busyReasons.length > 0, busyReasons };
}

function busyReasonsOf(disk: Pick<DiskInfo, 'path' | 'mountpoints' | 'holders' | 'swap' | 'partitions'>): string[] {
  const reasons: string[] = [];
  for (const item of [disk, ...disk.partitions]) {
    for (const mp of item.mountpoints) reasons.push(`${item.path} is mounted on ${mp}`);
    for (const holder of item.holders) reasons.push(`${item.path} is held by ${holder}`);
    if (item.swap) reasons.push(`${item.path} is in use as swap`);
  }
  return reasons;
}

/** Size and sector sizes from BLKGETSIZE64/BLKSSZGET/BLKPBSZGET; /sys when the device cannot be opened (no media). */
async function geometryOf(path: string, sys: string): Promise<{ sizeBytes: number; logicalSectorSize: number; physicalSectorSize: number }> {
  try {
    const g = blockDeviceGeometry(path);
    return { sizeBytes: Number(g.sizeBytes), logicalSectorSize: g.logicalSectorSize, physicalSectorSize: g.physicalSectorSize };
  } catch {
    return {
      sizeBytes: ((await readSysNumber(`${sys}/size`)) ?? 0) * 512,
      logicalSectorSize: (await readSysNumber(`${sys}/queue/logical_block_size`)) ?? 512,
      physicalSectorSize: (await readSysNumber(`${sys}/queue/physical_block_size`)) ?? 512,
    };
  }
}

async function loopsShowing(file: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await listDir('/sys/block')) {
    if (name.startsWith('loop') && (await readSysText(`/sys/block/${name}/loop/backing_file`)) === file) found.push(`/dev/${name}`);
  }
  return found;
}

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn);
}

function minor(rdev: number): number {
  const dev = BigInt(rdev);
  return Number((dev & 0xffn) | ((dev >> 12n) & 0xfff00n));
}
