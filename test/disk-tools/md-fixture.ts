// md RAID 1.2 member superblocks written by the test (mdadm --create cannot write them here: without the md driver it
// fails opening the array device before it writes anything), laid out as the kernel's mdp_superblock_1; mdadm
// --examine judges them and our reader.
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { md0Checksum, md0Offset, mdChecksum, MD_MAGIC } from '../../plugins/disk-tools/md/md-superblock.js';

export interface MdFixture {
  name: string;
  level: number;
  layout: number;
  chunkSectors: number;
  raidDevices: number;
  /** Role of each member written: a slot number, or 'spare'. */
  roles: (number | 'spare')[];
  memberSectors: number;
  events: number;
}

export async function writeMdMembers(devices: readonly string[], fixture: MdFixture): Promise<void> {
  const arrayUuid = randomBytes(16);
  const now = BigInt(Math.floor(Date.now() / 1000));
  const maxDev = Math.max(fixture.roles.length, 4);
  const dataOffset = 2048;
  const dataSize = fixture.memberSectors - dataOffset;
  for (const [i, device] of devices.entries()) {
    const sb = Buffer.alloc(4096);
    sb.writeUInt32LE(MD_MAGIC, 0);
    sb.writeUInt32LE(1, 4);
    arrayUuid.copy(sb, 16);
    sb.write(fixture.name, 32, 32, 'utf8');
    sb.writeBigUInt64LE(now, 64);
    sb.writeInt32LE(fixture.level, 72);
    sb.writeUInt32LE(fixture.layout, 76);
    sb.writeBigUInt64LE(BigInt(dataSize), 80);
    sb.writeUInt32LE(fixture.chunkSectors, 88);
    sb.writeUInt32LE(fixture.raidDevices, 92);
    sb.writeBigUInt64LE(BigInt(dataOffset), 128);
    sb.writeBigUInt64LE(BigInt(dataSize), 136);
    sb.writeBigUInt64LE(8n, 144);
    sb.writeUInt32LE(i, 160);
    randomBytes(16).copy(sb, 168);
    sb.writeBigUInt64LE(now, 192);
    sb.writeBigUInt64LE(BigInt(fixture.events), 200);
    sb.writeBigUInt64LE(0xffffffffffffffffn, 208);
    sb.writeUInt32LE(maxDev, 220);
    for (let d = 0; d < maxDev; d++) {
      const role = fixture.roles[d];
      sb.writeUInt16LE(role === undefined || role === 'spare' ? 0xffff : role, 256 + d * 2);
    }
    sb.writeUInt32LE(mdChecksum(sb), 216);
    const handle = await open(device, 'r+');
    try {
      await handle.write(sb, 0, 4096, 4096);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** 0.90 superblocks (little-endian, at the member's last 64 KiB-aligned 64 KiB), one per member: its slot, active and in sync. */
export async function writeMd0Members(devices: readonly string[], fixture: Omit<MdFixture, 'name' | 'roles'>, memberBytes: number): Promise<void> {
  const uuid = [0, 1, 2, 3].map(() => randomBytes(4).readUInt32LE(0));
  const now = Math.floor(Date.now() / 1000);
  for (const [i, device] of devices.entries()) {
    const sb = Buffer.alloc(4096);
    const word = (index: number, value: number) => sb.writeUInt32LE(value >>> 0, index * 4);
    word(0, MD_MAGIC);
    word(2, 90);
    word(5, uuid[0]!);
    word(6, now);
    sb.writeInt32LE(fixture.level, 7 * 4);
    word(8, Math.floor(md0Offset(memberBytes) / 1024));
    word(9, devices.length);
    word(10, fixture.raidDevices);
    word(13, uuid[1]!);
    word(14, uuid[2]!);
    word(15, uuid[3]!);
    word(32, now);
    word(33, 1); // clean
    word(34, devices.length);
    word(35, devices.length);
    word(39, fixture.events);
    word(64, fixture.layout);
    word(65, fixture.chunkSectors * 512);
    for (const [d] of devices.entries()) {
      const base = 128 + d * 32;
      word(base, d);
      word(base + 3, d);
      word(base + 4, 6); // active, in sync
    }
    word(992, i);
    word(992 + 3, i);
    word(992 + 4, 6);
    word(38, md0Checksum(sb));
    const handle = await open(device, 'r+');
    try {
      await handle.write(sb, 0, 4096, md0Offset(memberBytes));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
