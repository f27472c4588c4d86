// Linux md RAID member superblocks, version 1.x (mdp_superblock_1 in the kernel's md_p.h): found at the start (1.1),
// 4 KiB in (1.2) or near the end (1.0) of a member, checked by magic and checksum, decoded as mdadm --examine shows them.
export const MD_MAGIC = 0xa92b4efc;
const MAX_SECTOR = 0xffffffffffffffffn;

const LEVELS: Readonly<Record<number, string>> = { [-4]: 'multipath', [-1]: 'linear', 0: 'raid0', 1: 'raid1', 4: 'raid4', 5: 'raid5', 6: 'raid6', 10: 'raid10' };

export interface MdSuperblock {
  version: '0.90' | '1.0' | '1.1' | '1.2';
  /** As mdadm prints it: four groups of 8 hex digits joined by ':'. */
  arrayUuid: string;
  name: string;
  level: string;
  layout: number;
  chunkBytes: number;
  raidDevices: number;
  /** Sectors of each member the array uses ("Used Dev Size"). */
  usedDevSectors: number;
  /** Sectors of data space on this member ("Avail Dev Size"). */
  availDevSectors: number;
  dataOffsetSectors: number;
  superOffsetSectors: number;
  deviceUuid: string;
  devNumber: number;
  /** "Active device N", "spare", "faulty" or "journal". */
  role: string;
  events: number;
  clean: boolean;
  creationTime: Date;
  updateTime: Date;
  featureMap: number;
}

const hex32 = (n: number) => n.toString(16).padStart(8, '0');
const mdUuid = (bytes: Uint8Array) => [0, 4, 8, 12].map((i) => Buffer.from(bytes.subarray(i, i + 4)).toString('hex')).join(':');
const seconds = (value: bigint) => new Date(Number(value & 0xffffffffffn) * 1000);

/** The checksum the kernel and mdadm compute: the 32-bit words of the superblock and its role table, folded. */
export function mdChecksum(sb: Buffer): number {
  const maxDev = sb.readUInt32LE(220);
  const length = 256 + maxDev * 2;
  let sum = 0n;
  for (let i = 0; i + 4 <= length; i += 4) sum += BigInt(i === 216 ? 0 : sb.readUInt32LE(i));
  if (length % 4 === 2) sum += BigInt(sb.readUInt16LE(length - 2));
  return Number(((sum & 0xffffffffn) + (sum >> 32n)) & 0xffffffffn);
}

/** Decodes a superblock sector run (at least 256 + 2 * max_dev bytes); undefined when the magic or checksum is wrong. */
export function decodeMdSuperblock(sb: Buffer): MdSuperblock | undefined {
  if (sb.length < 256 || sb.readUInt32LE(0) !== MD_MAGIC || sb.readUInt32LE(4) !== 1) return undefined;
  const maxDev = sb.readUInt32LE(220);
  if (maxDev > 1920 || sb.length < 256 + maxDev * 2 || mdChecksum(sb) !== sb.readUInt32LE(216)) return undefined;
  const superOffsetSectors = Number(sb.readBigUInt64LE(144));
  const devNumber = sb.readUInt32LE(160);
  const roleValue = devNumber < maxDev ? sb.readUInt16LE(256 + devNumber * 2) : 0xffff;
  const role = roleValue === 0xffff ? 'spare' : roleValue === 0xfffe ? 'faulty' : roleValue === 0xfffd ? 'journal' : `Active device ${roleValue}`;
  const level = sb.readInt32LE(72);
  return {
    version: superOffsetSectors === 0 ? '1.1' : superOffsetSectors === 8 ? '1.2' : '1.0',
    arrayUuid: mdUuid(sb.subarray(16, 32)),
    name: sb.toString('utf8', 32, 64).replace(/\0.*$/s, ''),
    level: LEVELS[level] ?? `level ${level}`,
    layout: sb.readUInt32LE(76),
    chunkBytes: sb.readUInt32LE(88) * 512,
    raidDevices: sb.readUInt32LE(92),
    usedDevSectors: Number(sb.readBigUInt64LE(80)),
    availDevSectors: Number(sb.readBigUInt64LE(136)),
    dataOffsetSectors: Number(sb.readBigUInt64LE(128)),
    superOffsetSectors,
    deviceUuid: mdUuid(sb.subarray(168, 184)),
    devNumber,
    role,
    events: Number(sb.readBigUInt64LE(200)),
    clean: sb.readBigUInt64LE(208) === MAX_SECTOR,
    creationTime: seconds(sb.readBigUInt64LE(64)),
    updateTime: seconds(sb.readBigUInt64LE(192)),
    featureMap: sb.readUInt32LE(8),
  };
}

/** Where a 1.x superblock can sit on a member of `sizeBytes`: 1.1 at 0, 1.2 at 4 KiB, 1.0 at the end less 8-12 KiB, 4 KiB aligned. */
export function superblockOffsets(sizeBytes: number): number[] {
  const sectors = Math.floor(sizeBytes / 512);
  const end = sectors >= 24 ? (sectors - 16) & ~7 : -1;
  return [0, 4096, ...(end > 8 ? [end * 512] : [])];
}

const MD0_BYTES = 4096;

/** The 0.90 checksum: every 32-bit word of the 4 KiB superblock (sb_csum as zero), folded. */
export function md0Checksum(sb: Buffer): number {
  let sum = 0n;
  for (let i = 0; i < MD0_BYTES; i += 4) sum += BigInt(i === 38 * 4 ? 0 : sb.readUInt32LE(i));
  return Number(((sum & 0xffffffffn) + (sum >> 32n)) & 0xffffffffn);
}

/** Where a 0.90 superblock sits: the last 64 KiB-aligned 64 KiB block of the member. */
export function md0Offset(sizeBytes: number): number {
  const sectors = Math.floor(sizeBytes / 512);
  return ((sectors & ~127) - 128) * 512;
}

/** Decodes a 0.90 superblock (little-endian, as written on x86); undefined when the magic, version or checksum is wrong. */
export function decodeMd0Superblock(sb: Buffer, memberBytes: number): MdSuperblock | undefined {
  if (sb.length < MD0_BYTES || sb.readUInt32LE(0) !== MD_MAGIC || sb.readUInt32LE(4) !== 0 || sb.readUInt32LE(8) !== 90) return undefined;
  if (md0Checksum(sb) !== sb.readUInt32LE(38 * 4)) return undefined;
  const word = (i: number) => sb.readUInt32LE(i * 4);
  const level = sb.readInt32LE(7 * 4);
  const thisDisk = 992;
  const raidDisk = word(thisDisk + 3);
  const state = word(thisDisk + 4);
  const role = state & 1 ? 'faulty' : state & 2 ? `Active device ${raidDisk}` : 'spare';
  const offset = md0Offset(memberBytes);
  return {
    version: '0.90',
    arrayUuid: [word(5), word(13), word(14), word(15)].map(hex32).join(':'),
    name: '',
    level: LEVELS[level] ?? `level ${level}`,
    layout: word(64),
    chunkBytes: word(65),
    raidDevices: word(10),
    usedDevSectors: word(8) * 2,
    availDevSectors: offset / 512,
    dataOffsetSectors: 0,
    superOffsetSectors: offset / 512,
    deviceUuid: '',
    devNumber: word(thisDisk),
    role,
    events: Number((BigInt(word(40)) << 32n) | BigInt(word(39))),
    clean: (word(33) & 1) === 1,
    creationTime: new Date(word(6) * 1000),
    updateTime: new Date(word(32) * 1000),
    featureMap: 0,
  };
}
