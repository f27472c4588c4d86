// One conformance check of our MBR codec against sfdisk and parted on a layout made by either tool.
import { deepStrictEqual } from 'node:assert/strict';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../helpers/index.js';
import { readMbrDisk } from '../../plugins/partition/table/mbr-disk-read.js';
import { writeMbrDisk } from '../../plugins/partition/table/mbr-disk-write.js';
import { mbrDiskToLayout } from '../../plugins/partition/table/mbr-layout.js';
import { layoutToMbrDisk } from '../../plugins/partition/table/mbr-layout-build.js';
import type { DiskGeometry } from '../../plugins/partition/table/layout.js';
import type { SectorWrite } from '../../plugins/partition/table/sector-io.js';
import { openReader, writeSectors } from './mbr-image.js';
import { buildMbrLayout, type MbrLayoutSpec } from './mbr-layouts.js';
import { byNumber, layoutAsSfdisk, sfdiskDosTable } from './sfdisk-json.js';

export interface MbrCheckTargets {
  /** Where 512-byte-sector image files go. */
  readonly dir: string;
  /** A loop device with 4096-byte sectors for the 4096 layouts; the caller serializes its use. */
  readonly device4096?: string;
}

export interface MbrCheckResult {
  readonly id: number;
  readonly partitions: number;
  /** For sfdisk layouts: whether our table built from the Layout alone equals sfdisk's sectors byte for byte. */
  readonly sameBytesAsSfdisk?: boolean;
  /** Where our table differs from sfdisk's, when it does. */
  readonly differenceFromSfdisk?: string;
}

export async function checkMbrLayout(spec: MbrLayoutSpec, targets: MbrCheckTargets): Promise<MbrCheckResult> {
  const geometry: DiskGeometry = { sectorSize: spec.sectorSize, sectorCount: spec.sectorCount };
  const onDevice = spec.sectorSize === 4096;
  if (onDevice && !targets.device4096) throw new Error(`Layout ${spec.id} needs a 4096-byte-sector loop device`);
  const original = onDevice ? targets.device4096! : join(targets.dir, `layout-${spec.id}-${spec.tool}.img`);
  const ours = onDevice ? targets.device4096! : join(targets.dir, `layout-${spec.id}-ours.img`);
  try {
    await blank(original, geometry, onDevice);
    await buildMbrLayout(spec, original).catch((error: unknown) => {
      throw new Error(`layout ${spec.id}: ${spec.tool} could not make it: ${(error as Error).message}\n${JSON.stringify(spec)}`);
    });
    if (onDevice) await run('partx', ['-d', original], { allowFailure: true });
    const theirs = byNumber(await sfdiskDosTable(original));
    let originalSectors: Map<number, Uint8Array>;
    let fresh: SectorWrite[];
    {
      using reader = openReader(original, geometry.sectorSize, geometry.sectorCount);
      const disk = readMbrDisk(reader.read, geometry);
      const layout = mbrDiskToLayout(disk, geometry);
      deepStrictEqual(byNumber(layoutAsSfdisk(layout)), theirs, `layout ${spec.id}: our parse differs from sfdisk --json`);
      const roundTrip = writeMbrDisk(disk, geometry);
      originalSectors = new Map(roundTrip.map((w) => [w.lba, reader.read(w.lba, 1)]));
      expectSameSectors(roundTrip, originalSectors, `layout ${spec.id}: read then write`);
      expectSameSectors(writeMbrDisk(layoutToMbrDisk(layout, disk), geometry), originalSectors, `layout ${spec.id}: rebuilt from its Layout with the disk as base`);
      fresh = writeMbrDisk(layoutToMbrDisk(layout), geometry);
    }
    const differenceFromSfdisk = spec.tool === 'sfdisk' ? describeDifference(fresh, originalSectors) : undefined;
    const sameBytesAsSfdisk = spec.tool === 'sfdisk' ? differenceFromSfdisk === undefined : undefined;
    await blank(ours, geometry, onDevice);
    writeSectors(ours, geometry.sectorSize, fresh);
    const verify = await run('sfdisk', ['--verify', ours], { allowFailure: true });
    if (!verify.stdout.includes('No errors detected.') || verify.stderr !== '') {
      throw new Error(`layout ${spec.id}: sfdisk --verify rejects our table: ${verify.stdout.trim()} ${verify.stderr.trim()}`);
    }
    // sgdisk reads an MBR by converting it to GPT in memory, then verifies that.
    const sgdisk = await run('sgdisk', ['-v', ours], { allowFailure: true });
    if (sgdisk.code !== 0 || !sgdisk.stdout.includes('No problems found.')) throw new Error(`layout ${spec.id}: sgdisk -v rejects our table: ${sgdisk.stdout.trim()} ${sgdisk.stderr.trim()}`);
    const parted = await run('parted', ['-s', '-m', ours, 'unit', 's', 'print'], { allowFailure: true });
    if (parted.code !== 0 || parted.stderr !== '') throw new Error(`layout ${spec.id}: parted print of our table exits ${parted.code}: ${parted.stderr.trim()}`);
    deepStrictEqual(byNumber(await sfdiskDosTable(ours)), theirs, `layout ${spec.id}: sfdisk --json of our table differs from the original's`);
    return { id: spec.id, partitions: theirs.partitions.length, ...(sameBytesAsSfdisk === undefined ? {} : { sameBytesAsSfdisk }), ...(differenceFromSfdisk ? { differenceFromSfdisk } : {}) };
  } finally {
    if (!onDevice) await Promise.all([rm(original, { force: true }), rm(ours, { force: true })]);
  }
}

async function blank(target: string, geometry: DiskGeometry, onDevice: boolean): Promise<void> {
  if (onDevice) {
    await run('blkdiscard', ['-f', target]);
    return;
  }
  await rm(target, { force: true });
  const handle = await open(target, 'w');
  try {
    await handle.truncate(geometry.sectorCount * geometry.sectorSize);
  } finally {
    await handle.close();
  }
}

function expectSameSectors(writes: readonly SectorWrite[], original: ReadonlyMap<number, Uint8Array>, what: string): void {
  for (const w of writes) {
    if (!equalBytes(w.bytes, original.get(w.lba))) throw new Error(`${what}: sector ${w.lba} differs from the original`);
  }
  if (writes.length !== original.size) throw new Error(`${what}: ${writes.length} sectors written, the original table has ${original.size}`);
}

function describeDifference(writes: readonly SectorWrite[], original: ReadonlyMap<number, Uint8Array>): string | undefined {
  const ours = writes.map((w) => w.lba).join(',');
  const theirs = [...original.keys()].join(',');
  if (ours !== theirs) return `we write sectors ${ours}, sfdisk wrote ${theirs}`;
  for (const w of writes) {
    // Only the 512-byte record: on 4096-byte sectors sfdisk leaves stray bytes past 512 in a new empty EBR.
    const o = original.get(w.lba)!;
    const at = w.bytes.subarray(0, 512).findIndex((b, i) => b !== o[i]);
    if (at >= 0) return `sector ${w.lba} byte ${at}: ours ${hexBytes(w.bytes, at)}, sfdisk ${hexBytes(o, at)}`;
  }
  return undefined;
}

function hexBytes(bytes: Uint8Array, at: number): string {
  const from = at >= 446 ? 446 + Math.floor((at - 446) / 16) * 16 : at;
  return Buffer.from(bytes.slice(from, from + 16)).toString('hex');
}

function equalBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}
