// Renders a Layout the way `sfdisk --dump` prints a table, so people (and sfdisk itself) can read a plan's prediction.
import { type Layout, type LayoutPartition } from '../table/layout.js';

/** `/dev/sda` + 1 → `/dev/sda1`; `/dev/loop0`, `/dev/nvme0n1` + 1 → `...p1`, as the kernel names partitions. */
export function partitionPath(disk: string, number: number): string {
  return /\d$/.test(disk) ? `${disk}p${number}` : `${disk}${number}`;
}

export function sfdiskDump(layout: Layout, disk: string): string {
  const header = [`label: ${layout.table === 'mbr' ? 'dos' : 'gpt'}`];
  if (layout.diskId) header.push(`label-id: ${layout.table === 'gpt' ? layout.diskId.toUpperCase() : layout.diskId}`);
  header.push(`device: ${disk}`, 'unit: sectors');
  if (layout.table === 'gpt') header.push(`first-lba: ${layout.firstUsableLba}`, `last-lba: ${layout.lastUsableLba}`);
  header.push(`sector-size: ${layout.geometry.sectorSize}`, '');
  const width = Math.max(...layout.partitions.map((p) => partitionPath(disk, p.number).length), 0);
  const lines = layout.partitions.map((p) => `${partitionPath(disk, p.number).padEnd(width)} : ${fields(p).join(', ')}`);
  return [...header, ...lines].join('\n');
}

function fields(p: LayoutPartition): string[] {
  const out = [`start=${String(p.startLba).padStart(12)}`, `size=${String(p.sizeSectors).padStart(12)}`];
  if (p.mbr) {
    out.push(`type=${p.mbr.type.toString(16)}`);
    if (p.mbr.bootable) out.push('bootable');
  }
  if (p.gpt) {
    out.push(`type=${p.gpt.typeGuid.toUpperCase()}`, `uuid=${p.gpt.uuid.toUpperCase()}`);
    if (p.gpt.name) out.push(`name="${p.gpt.name.replace(/"/g, '\\"')}"`);
    if (p.gpt.attributes !== 0n) out.push(`attrs="${gptAttributeNames(p.gpt.attributes)}"`);
  }
  return out;
}

/** sfdisk's attribute spelling: `RequiredPartition LegacyBIOSBootable GUID:62,63`. */
export function gptAttributeNames(attributes: bigint): string {
  const names: string[] = [];
  const guidBits: number[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (((attributes >> BigInt(bit)) & 1n) === 0n) continue;
    if (bit === 0) names.push('RequiredPartition');
    else if (bit === 1) names.push('NoBlockIOProtocol');
    else if (bit === 2) names.push('LegacyBIOSBootable');
    else if (bit >= 48) guidBits.push(bit);
    else names.push(String(bit));
  }
  if (guidBits.length > 0) names.push(`GUID:${guidBits.join(',')}`);
  return names.join(' ');
}
