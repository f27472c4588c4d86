// Deterministic random GPT layouts, and the sgdisk/sfdisk/parted command lines that make each one on a blank disk.
import { GPT_TYPES } from '../../plugins/partition/table/gpt-types.js';
import { run } from '../helpers/index.js';
import { prng } from '../helpers/prng.js';

export type GptTool = 'sgdisk' | 'sfdisk' | 'parted';

export interface PlannedPartition {
  readonly number: number;
  readonly startLba: number;
  readonly endLba: number;
  readonly typeGuid: string;
  readonly uuid: string;
  readonly name: string;
  /** Bits 0–2 and 48–63 only: the ones all three tools can set and sfdisk can print. */
  readonly attributeBits: readonly number[];
  /** parted only: flags to set. */
  readonly partedFlags: readonly string[];
}

export interface GptCase {
  readonly id: number;
  readonly tool: GptTool;
  readonly sectorSize: 512 | 4096;
  readonly sectorCount: number;
  readonly diskGuid: string;
  /** Entry slots: sgdisk -S / sfdisk table-length; undefined for the tool's default (128). */
  readonly entryCount: number | undefined;
  /** sfdisk first-lba; undefined for the default. */
  readonly firstLba: number | undefined;
  readonly alignment: number;
  readonly partitions: readonly PlannedPartition[];
}


const BMP_NAME_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.', 'é', 'ß', 'ü', 'Ω', 'Ж', '中', '日', '本', '語', '한', 'ア', '€'];
const NON_BMP_CHARS = ['😀', '🎉', '𝄞', '𠀀', '🚀'];
const PARTED_FLAGS = ['legacy_boot', 'hidden', 'esp', 'bios_grub', 'lvm', 'raid', 'swap', 'msftres', 'msftdata', 'diag'];

export function generateGptCases(count: number, seed = 4): GptCase[] {
  const random = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  const guid = () => {
    const hex = Array.from({ length: 32 }, () => int(0, 15).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[int(0, 3)]}${hex.slice(17, 20)}-${hex.slice(20)}`;
  };
  const typeGuids = [...new Set(Object.values(GPT_TYPES).map((t) => t.guid))];
  const cases: GptCase[] = [];
  for (let id = 0; id < count; id++) {
    const tool: GptTool = (['sgdisk', 'sfdisk', 'parted'] as const)[id % 3]!;
    const sectorSize = random() < 0.3 ? 4096 : 512;
    const sizeMiB = pick([8, 16, 33, 64, 100, 257]);
    const sectorCount = (sizeMiB * 1024 * 1024) / sectorSize - (random() < 0.2 ? int(1, 7) : 0);
    const entryCount = tool === 'parted' || random() < 0.5 ? undefined : pick(tool === 'sgdisk' ? [4, 32, 56, 128, 256] : [32, 56, 128, 200, 256]);
    const slots = entryCount ?? 128;
    const arraySectors = Math.ceil((slots * 128) / sectorSize);
    const minFirst = 2 + arraySectors;
    const firstLba = tool === 'sfdisk' && random() < 0.5 ? minFirst + int(0, 40) : undefined;
    const alignment = pick(sectorSize === 512 ? [1, 8, 64, 2048] : [1, 8, 256]);
    const lastUsable = sectorCount - 2 - arraySectors;
    const partitions: PlannedPartition[] = [];
    // sfdisk's default first usable LBA is 1 MiB in.
    const defaultFirst = tool === 'sfdisk' ? (1024 * 1024) / sectorSize : minFirst;
    let cursor = Math.ceil((firstLba ?? defaultFirst) / alignment) * alignment;
    const wanted = int(0, Math.min(slots, 9));
    const numbers = new Set<number>();
    for (let i = 0; i < wanted; i++) {
      // sgdisk takes any slot; sfdisk and parted number partitions in order.
      numbers.add(tool === 'sgdisk' && random() < 0.3 ? int(1, slots) : (Math.max(0, ...numbers) % slots) + 1);
    }
    for (const number of [...numbers].sort((a, b) => a - b)) {
      const start = cursor + alignment * int(0, 3);
      const room = lastUsable - start + 1;
      if (room < 1) break;
      const size = Math.max(1, Math.min(room, random() < 0.1 ? int(1, 16) : int(1, Math.max(1, Math.floor((sectorCount / 8) )))));
      const nameLength = random() < 0.15 ? 0 : int(1, random() < 0.1 ? 36 : 12);
      let name = '';
      while (name.length < nameLength) {
        const c = tool === 'sgdisk' && random() < 0.15 ? pick(NON_BMP_CHARS) : pick(BMP_NAME_CHARS);
        if (name.length + c.length <= nameLength) name += c;
        else name += 'x';
      }
      // parted takes a leading '-' for an option and needs a name to make a partition.
      if (name.startsWith('-')) name = `n${name.slice(1)}`;
      if (tool === 'parted' && name === '') name = 'p';
      const attributeBits = random() < 0.5 ? [] : [...new Set(Array.from({ length: int(1, 3) }, () => pick([0, 1, 2, 48, 49, 50, 52, 55, 56, 59, 60, 62, 63])))].sort((a, b) => a - b);
      partitions.push({
        number,
        startLba: start,
        endLba: start + size - 1,
        typeGuid: random() < 0.1 ? guid() : pick(typeGuids),
        uuid: guid(),
        name,
        attributeBits: tool === 'parted' ? [] : attributeBits,
        partedFlags: tool === 'parted' && random() < 0.5 ? [pick(PARTED_FLAGS)] : [],
      });
      cursor = Math.ceil((start + size) / alignment) * alignment;
    }
    cases.push({ id, tool, sectorSize, sectorCount, diskGuid: guid(), entryCount, firstLba, alignment, partitions });
  }
  return cases;
}

/** Makes the case's table on `target` (an image file, or a loop device for 4096-byte sectors) with its tool. */
export async function makeGptCase(c: GptCase, target: string): Promise<void> {
  if (c.tool === 'sgdisk') {
    const args = ['-o', ...(c.entryCount ? ['-S', String(c.entryCount)] : []), '-a', String(c.alignment), '-U', c.diskGuid];
    for (const p of c.partitions) {
      args.push('-n', `${p.number}:${p.startLba}:${p.endLba}`, '-t', `${p.number}:${p.typeGuid}`, '-u', `${p.number}:${p.uuid}`);
      if (p.name) args.push('-c', `${p.number}:${p.name}`);
      for (const bit of p.attributeBits) args.push('-A', `${p.number}:set:${bit}`);
    }
    await run('sgdisk', [...args, target]);
  } else if (c.tool === 'sfdisk') {
    await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', target], { input: sfdiskScript(c) });
  } else {
    const args = ['-s', '-a', 'none', target, 'mklabel', 'gpt', 'unit', 's'];
    for (const p of c.partitions) {
      args.push('mkpart', p.name, `${p.startLba}`, `${p.endLba}`);
      for (const flag of p.partedFlags) args.push('set', String(p.number), flag, 'on');
    }
    const result = await run('parted', args, { allowFailure: true });
    // parted asks udevadm to settle after writing; Debian's minimal images have none, which is harmless here.
    // It also warns "failed to translate partition name" for names of all 36 code units, yet writes them right.
    const fullName = c.partitions.some((p) => p.name.length === 36);
    const stderr = result.stderr.split('\n').filter((l) => l && !l.includes('udevadm') && !(fullName && l.includes('failed to translate partition name'))).join('\n');
    if (result.code !== 0 || stderr) throw new Error(`parted ${args.join(' ')} failed (exit ${result.code}): ${stderr}`);
  }
}

function sfdiskScript(c: GptCase): string {
  const lines = ['label: gpt', `label-id: ${c.diskGuid}`];
  if (c.entryCount) lines.push(`table-length: ${c.entryCount}`);
  if (c.firstLba !== undefined) lines.push(`first-lba: ${c.firstLba}`);
  lines.push('');
  for (const p of c.partitions) {
    lines.push(sfdiskPartitionLine({ ...p, attributes: p.attributeBits.reduce((a, b) => a | (1n << BigInt(b)), 0n) }));
  }
  return `${lines.join('\n')}\n`;
}

/** One sfdisk script line; partition numbers are set by position, so callers list partitions in number order. */
export function sfdiskPartitionLine(p: { startLba: number; endLba: number; typeGuid: string; uuid: string; name: string; attributes: bigint }): string {
  const fields = [`start=${p.startLba}`, `size=${p.endLba - p.startLba + 1}`, `type=${p.typeGuid}`, `uuid=${p.uuid}`];
  if (p.name) fields.push(`name="${p.name}"`);
  if (p.attributes) fields.push(`attrs="${sfdiskAttributes(p.attributes)}"`);
  return fields.join(', ');
}

const NAMED_BITS = ['RequiredPartition', 'NoBlockIOProtocol', 'LegacyBIOSBootable'] as const;

/** The attribute string sfdisk prints and accepts: named bits 0–2, then `GUID:a,b` for bits 48–63. */
export function sfdiskAttributes(attributes: bigint): string {
  const words: string[] = NAMED_BITS.filter((_, bit) => attributes & (1n << BigInt(bit)));
  const guidBits = Array.from({ length: 16 }, (_, i) => 48 + i).filter((bit) => attributes & (1n << BigInt(bit)));
  if (guidBits.length) words.push(`GUID:${guidBits.join(',')}`);
  return words.join(' ');
}
