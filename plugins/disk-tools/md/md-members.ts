// md RAID members (1.x and 0.90 superblocks) among given devices, and the arrays they form (grouped by array UUID): read from their superblocks.
import { open } from 'node:fs/promises';
import { blockDeviceGeometry } from '../../../native/index.js';
import { decodeMd0Superblock, decodeMdSuperblock, md0Offset, superblockOffsets, type MdSuperblock } from './md-superblock.js';

export interface MdMember extends MdSuperblock {
  device: string;
}

export interface MdArray {
  arrayUuid: string;
  name: string;
  level: string;
  raidDevices: number;
  /** Members found, by role; the newest event count wins where members disagree. */
  members: { device: string; role: string; events: number }[];
  missingRoles: number[];
}

async function readMember(device: string): Promise<MdMember | undefined> {
  const handle = await open(device, 'r');
  try {
    const { size } = await handle.stat();
    const sizeBytes = size > 0 ? size : Number(blockDeviceGeometry(device).sizeBytes);
    for (const offset of superblockOffsets(sizeBytes)) {
      const buffer = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(buffer, 0, 4096, offset);
      const sb = decodeMdSuperblock(buffer.subarray(0, bytesRead));
      if (sb && sb.superOffsetSectors * 512 === offset) return { device, ...sb };
    }
    if (sizeBytes >= 128 * 1024) {
      const buffer = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(buffer, 0, 4096, md0Offset(sizeBytes));
      const sb = decodeMd0Superblock(buffer.subarray(0, bytesRead), sizeBytes);
      if (sb) return { device, ...sb };
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

export async function readMd(devices: readonly string[]): Promise<{ members: MdMember[]; arrays: MdArray[] }> {
  const members = (await Promise.all(devices.map((d) => readMember(d).catch(() => undefined)))).filter((m): m is MdMember => m !== undefined);
  const arrays: MdArray[] = [];
  for (const [arrayUuid, list] of Map.groupBy(members, (m) => m.arrayUuid)) {
    const newest = list.reduce((a, b) => (b.events > a.events ? b : a));
    const active = new Set(list.filter((m) => m.role.startsWith('Active device ')).map((m) => Number(m.role.slice(14))));
    arrays.push({
      arrayUuid, name: newest.name, level: newest.level, raidDevices: newest.raidDevices,
      members: list.map((m) => ({ device: m.device, role: m.role, events: m.events })),
      missingRoles: Array.from({ length: newest.raidDevices }, (_, i) => i).filter((i) => !active.has(i)),
    });
  }
  return { members, arrays };
}
