// Friendly names of common partition types, GPT type GUIDs and MBR type ids, as partitioners show them.
const GPT: Record<string, string> = {
  '0fc63daf-8483-4772-8e79-3d69d8477de4': 'Linux filesystem',
  'c12a7328-f81f-11d2-ba4b-00a0c93ec93b': 'EFI system',
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f': 'Linux swap',
  'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7': 'Microsoft basic data',
  'e6d6d379-f507-44c2-a23c-238f2a3df928': 'Linux LVM',
  'a19d880f-05fc-4d3b-a006-743f0f84911e': 'Linux RAID',
  '21686148-6449-6e6f-744e-656564454649': 'BIOS boot',
  '4f68bce3-e8cd-4db1-96e7-fbcaf984b709': 'Linux root (x86-64)',
  '933ac7e1-2eb4-4f13-b844-0e14e2aef915': 'Linux home',
};

const MBR: Record<number, string> = {
  0x83: 'Linux', 0x82: 'Linux swap', 0x8e: 'Linux LVM', 0xfd: 'Linux RAID', 0x07: 'NTFS/exFAT', 0x0b: 'FAT32', 0x0c: 'FAT32 (LBA)',
  0x05: 'Extended', 0x0f: 'Extended (LBA)', 0xef: 'EFI system', 0xee: 'GPT protective',
};

export interface LayoutPartition {
  number: number;
  startLba: number;
  sizeSectors: number;
  gpt?: { typeGuid: string; name: string; uuid: string };
  mbr?: { type: number; bootable?: boolean; role?: string };
  [key: string]: unknown;
}

export function partitionTypeName(p: LayoutPartition): string {
  if (p.gpt) return GPT[p.gpt.typeGuid.toLowerCase()] ?? p.gpt.typeGuid;
  const type = p.mbr?.type ?? (p as { type?: number }).type;
  if (typeof type === 'number') return MBR[type] ?? `0x${type.toString(16).padStart(2, '0')}`;
  return 'unknown';
}

/** A stable colour per type, like GParted's per-filesystem colours. */
export function partitionColour(label: string): string {
  const palette = ['#4a90d9', '#7bb661', '#e0a030', '#c0504d', '#8064a2', '#4bacc6', '#f79646', '#9bbb59'];
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return palette[h % palette.length]!;
}
