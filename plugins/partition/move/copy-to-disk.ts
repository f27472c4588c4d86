// `part copy <disk> <n> --to <target> --start S`: the copy is queued in the target disk's plan, naming the source
// partition as its disk was then; at apply the source disk must still be so (else PLAN_STALE), the source partition
// must not be in use, and its bytes are read from there by the move engine under the target's journal.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { loopStatus } from '../../../native/index.js';
import type { CommandArgs } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { describePath } from '../block-devices.js';
import { typeForTable } from '../convert/table-convert.js';
import type { Operation } from '../ops/operation.js';
import { parseSectors } from '../ops/size-spec.js';
import { refuseBusy } from '../part/apply-checks.js';
import type { PartServices } from '../part/part-services.js';
import type { DiskGeometry, Layout } from '../table/layout.js';

type CopyOp = Extract<Operation, { op: 'copy' }>;

/** What holds a disk's bytes: a block device's number, or a file's (also behind a loop device over the whole file). */
function storageOf(path: string): string {
  const stat = statSync(path);
  if (!stat.isBlockDevice()) return `file ${stat.dev}:${stat.ino}`;
  if (basename(path).startsWith('loop')) {
    const loop = loopStatus(path);
    if (loop.offsetBytes === 0n) {
      const backing = statSync(loop.backingFile);
      return backing.isBlockDevice() ? `block ${backing.rdev}` : `file ${backing.dev}:${backing.ino}`;
    }
  }
  return `block ${stat.rdev}`;
}

/** The copy of partition `number` of `source` into free space of the target disk (`geometry`, `before`) at `start`. */
export function copyFromDiskOperation(services: PartServices, source: string, number: number, target: string, start: string, geometry: DiskGeometry, before: Layout | null, args: CommandArgs, uuid: () => string): CopyOp {
  if (source === target || storageOf(source) === storageOf(target)) {
    throw new ShadowError('INVALID_ARGUMENT', `${target} is ${source}, the disk being copied from${source === target ? '' : ', under another name'}; leave out --to to copy a partition within its own disk`);
  }
  if (!before) throw new ShadowError('INVALID_ARGUMENT', `${target} has no partition table; queue 'part create-table ${target} gpt|mbr' first`);
  const now = services.inspect(source, typeof args.options['sector-size'] === 'string' ? Number(args.options['sector-size']) : undefined);
  const partition = now.table.layout?.partitions.find((p) => p.number === number);
  if (!partition) throw new ShadowError('NOT_FOUND', `${source} has no partition ${number}; it has ${now.table.layout?.partitions.map((p) => p.number).join(', ') || 'none'}`);
  if (partition.mbr?.role === 'extended') throw new ShadowError('UNSUPPORTED', `Partition ${number} of ${source} is an extended partition; copy its logical partitions one by one`);
  return {
    op: 'copy', number, startLba: parseSectors(start, geometry.sectorSize, 'start'),
    ...(before.table === 'gpt' ? { uuid: uuid() } : {}),
    from: {
      disk: source, startLba: partition.startLba, sizeSectors: partition.sizeSectors, sectorSize: now.geometry.sectorSize,
      type: typeForTable(partition, before.table),
      ...(partition.gpt && before.table === 'gpt' ? { name: partition.gpt.name } : {}),
      fingerprint: now.fingerprint,
    },
  };
}

/** Before anything is written: each source disk's table is as it was when its copy was queued, and the source is free. */
export async function checkCopySources(services: PartServices, operations: readonly Operation[]): Promise<void> {
  for (const op of operations) {
    if (op.op !== 'copy' || !op.from) continue;
    const { disk, startLba, sizeSectors, sectorSize, fingerprint } = op.from;
    let now: ReturnType<PartServices['inspect']>;
    try {
      now = services.inspect(disk, sectorSize);
    } catch (error) {
      throw new ShadowError('PLAN_STALE', `Cannot read ${disk}, the disk partition ${op.number} is copied from: ${(error as Error).message}. Nothing was written`, { cause: error });
    }
    if (now.fingerprint !== fingerprint) {
      throw new ShadowError('PLAN_STALE', `The partition table of ${disk}, which partition ${op.number} is copied from, changed since the copy was queued; nothing was written. Queue the copy again`);
    }
    const unfinished = services.journals.load(disk);
    if (unfinished && unfinished.state !== 'done') {
      throw new ShadowError('RECOVERY_NEEDED', `An apply on ${disk}, which partition ${op.number} is copied from, was interrupted; run 'shadowdisk part recover ${disk}' first. Nothing was written`);
    }
    // Its data must not change while it is read: the same refusal as for the disk's own changes.
    refuseBusy(await describePath(disk), [{ number: op.number, startLba, sizeSectors }]);
  }
}
