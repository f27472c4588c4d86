// Pending operations: plain JSON values kept in a plan, folded over a Layout to predict the result.
import type { ConvertTableOp } from '../convert/table-convert.js';
import type { SetRoleOp } from '../convert/role-convert.js';

export type FsType = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'btrfs' | 'vfat' | 'ntfs' | 'exfat' | 'swap';
export const FS_TYPES: readonly FsType[] = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'vfat', 'ntfs', 'exfat', 'swap'];

/** The partition another disk's copy reads, as its disk was when the copy was queued (apply checks it still is). */
export interface CopySource {
  disk: string;
  startLba: number;
  sizeSectors: number;
  sectorSize: number;
  /** Its type as the target disk's table names it, and its GPT name when both tables are GPT. */
  type: string;
  name?: string;
  /** The source disk's table fingerprint then. */
  fingerprint: string;
}

export type PartitionFlag = 'boot' | 'hidden' | 'legacy-boot' | 'no-automount' | 'required';

export type Operation =
  | { op: 'create-table'; table: 'mbr' | 'gpt'; /** Filled in when queued, so the preview and the apply agree. */ diskId?: string }
  | {
      op: 'create';
      /** MBR only; default primary while a slot is free. */
      role?: 'primary' | 'extended' | 'logical';
      /** Default: the first free sector aligned to `alignSectors`. */
      startLba?: number;
      /** Default: the rest of the free region. */
      sizeSectors?: number;
      /** Alias (`linux`, `esp`, `swap`, `msdata`, ...), MBR hex id (`0x83`) or GPT type GUID. */
      type?: string;
      name?: string;
      uuid?: string;
    }
  | { op: 'delete'; number: number }
  /** Moves the partition and its data to `startLba` (same size); `stepBytes` overrides the copy step chosen for the shift. */
  | { op: 'move'; number: number; startLba: number; stepBytes?: number }
  /** Resizes the partition (same start) and its filesystem: shrunk before the table is written, grown after. */
  | { op: 'resize'; number: number; sizeSectors: number }
  /**
   * A new partition at `startLba` holding a copy of partition `number` (same size and type; a new filesystem UUID): of
   * this disk, or of the disk `from` names, as that disk was when the copy was queued.
   */
  | { op: 'copy'; number: number; startLba: number; uuid?: string; from?: CopySource }
  | ConvertTableOp
  | SetRoleOp
  | { op: 'set-type'; number: number; type: string }
  | { op: 'set-name'; number: number; name: string }
  | { op: 'set-uuid'; number: number; uuid: string }
  | { op: 'set-attributes'; number: number; attributes: string }
  | { op: 'set-flag'; number: number; flag: PartitionFlag; on: boolean }
  | { op: 'format'; number: number; fs: FsType; label?: string }
  | { op: 'set-label'; number: number; label: string };

/** Operations that change the partition table, as opposed to the data inside a partition. */
export function changesTable(operation: Operation): boolean {
  return operation.op !== 'format' && operation.op !== 'set-label';
}

/** One line a person reads in a plan: `create partition 3 (linux, 1.00 GiB at sector 2048)`. */
export function describeOperation(operation: Operation): string {
  switch (operation.op) {
    case 'create-table': return `create a new ${operation.table.toUpperCase()} partition table (erases the current one)`;
    case 'create': return `create a ${operation.role ?? ''}${operation.role ? ' ' : ''}partition${operation.type ? ` of type ${operation.type}` : ''}${operation.sizeSectors ? ` of ${operation.sizeSectors} sectors` : ''}${operation.startLba !== undefined ? ` at sector ${operation.startLba}` : ''}`;
    case 'delete': return `delete partition ${operation.number}`;
    case 'copy': return `copy partition ${operation.number}${operation.from ? ` of ${operation.from.disk}` : ''} with its data to a new partition at sector ${operation.startLba}`;
    case 'set-role': return `make partition ${operation.number} ${operation.role} (its data stays where it is)`;
    case 'convert-table': return `convert the partition table to ${operation.table.toUpperCase()}, keeping every partition's start, size and type`;
    case 'resize': return `resize partition ${operation.number} and its filesystem to ${operation.sizeSectors} sectors`;
    case 'move': return `move partition ${operation.number} with its data to sector ${operation.startLba}${operation.stepBytes ? ` (copy steps of ${operation.stepBytes} bytes)` : ''}`;
    case 'set-type': return `set the type of partition ${operation.number} to ${operation.type}`;
    case 'set-name': return `name partition ${operation.number} '${operation.name}'`;
    case 'set-uuid': return `set the UUID of partition ${operation.number} to ${operation.uuid}`;
    case 'set-attributes': return `set the attributes of partition ${operation.number} to ${operation.attributes}`;
    case 'set-flag': return `turn ${operation.on ? 'on' : 'off'} the ${operation.flag} flag of partition ${operation.number}`;
    case 'format': return `format partition ${operation.number} as ${operation.fs}${operation.label ? ` labelled '${operation.label}'` : ''}`;
    case 'set-label': return `label the filesystem of partition ${operation.number} '${operation.label}'`;
  }
}
