// Deterministic random MBR layouts (seeded PRNG) and how to make each with sfdisk or with parted, for conformance runs.
import { run } from '../helpers/index.js';
import { prng } from '../helpers/prng.js';

export type MbrTool = 'sfdisk' | 'parted';

export interface MbrSpecPartition {
  /** 1–4 for primaries and the extended partition; logicals are numbered by position. */
  readonly slot?: number;
  readonly start: number;
  readonly size: number;
  readonly type: number;
  readonly bootable: boolean;
  /** parted only: the fs-type argument of mkpart and the flags set afterwards. */
  readonly partedFsType?: string;
  readonly partedFlags?: readonly string[];
}

export interface MbrLayoutSpec {
  readonly id: number;
  readonly tool: MbrTool;
  readonly sectorSize: 512 | 4096;
  readonly sectorCount: number;
  readonly diskId: number;
  /** Primaries and the extended partition, in disk order. */
  readonly primaries: readonly MbrSpecPartition[];
  readonly logicals: readonly MbrSpecPartition[];
}


const TYPES = [0x83, 0x82, 0x07, 0x0c, 0x8e, 0xfd, 0x1b, 0x0b, 0x0e, 0x06, 0x17, 0xef, 0xa5, 0xda, 0x01, 0x8e, 0x83];
const EXTENDED = [0x05, 0x0f, 0x85];
const PARTED_FS = ['', 'ext4', 'linux-swap', 'fat32', 'fat16', 'ntfs'];
const PARTED_FLAGS = ['lvm', 'raid', 'hidden', 'lba', 'esp', 'diag'];
const MIB = 1024 * 1024;

export interface GenerateOptions {
  readonly seed: number;
  readonly count: number;
  /** Sector count of every 4096-byte-sector layout (they share one loop device per run). */
  readonly sectorCount4096: number;
  /** Share of layouts with 4096-byte sectors, 0–1. */
  readonly share4096?: number;
}

/** `count` layouts, alternating sfdisk and parted; every 16th has 50 or more logicals. */
export function generateMbrLayouts(options: GenerateOptions): MbrLayoutSpec[] {
  const rnd = prng(options.seed);
  return Array.from({ length: options.count }, (_, id) => generateOne(rnd, id, options));
}

function generateOne(rnd: () => number, id: number, options: GenerateOptions): MbrLayoutSpec {
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  const tool: MbrTool = id % 2 === 0 ? 'sfdisk' : 'parted';
  const sectorSize = rnd() < (options.share4096 ?? 0.2) ? 4096 : 512;
  const grain = MIB / sectorSize;
  const many = id % 16 === 5;
  const sizeMiB = sectorSize === 4096 ? 0 : many ? int(256, 4096) : pick([int(8, 256), int(256, 16384), int(16384, 200000)]);
  const sectorCount = sectorSize === 4096 ? options.sectorCount4096 : (sizeMiB * MIB) / 512;
  const usableEnd = Math.min(sectorCount, 2 ** 32) - 1;
  const withExtended = many || rnd() < 0.7;
  const logicalCount = !withExtended ? 0 : many ? int(50, 56) : pick([0, int(1, 3), int(1, 12)]);
  const primaryCount = withExtended ? int(0, 3) : int(1, 4);
  const kinds = shuffle(rnd, [...Array<string>(primaryCount).fill('p'), ...(withExtended ? ['e'] : [])]);
  const slots = shuffle(rnd, [1, 2, 3, 4]);
  // Each top-level partition gets an equal share of the disk; the extended partition a larger one.
  const weights = kinds.map((k) => (k === 'e' ? 3 + logicalCount / 4 : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let cursor = rnd() < 0.2 ? int(1, grain) : grain;
  const span = usableEnd - grain;
  const primaries: MbrSpecPartition[] = [];
  let extended: { start: number; size: number } | undefined;
  kinds.forEach((kind, i) => {
    const share = Math.floor((span * weights[i]!) / total);
    const { start, size } = place(int, cursor, share, grain, 1, kind === 'e' ? Math.floor(share * 0.6) : 1);
    cursor = start + size;
    const fs = pick(PARTED_FS);
    const type = kind === 'e' ? (tool === 'sfdisk' ? pick(EXTENDED) : 0x0f) : pick(TYPES);
    primaries.push({ slot: slots[i]!, start, size, type, bootable: kind === 'p' && rnd() < 0.25, ...(tool === 'parted' ? { partedFsType: fs, partedFlags: kind === 'p' && rnd() < 0.3 ? [pick(PARTED_FLAGS)] : [] } : {}) });
    if (kind === 'e') extended = { start, size };
  });
  const logicals: MbrSpecPartition[] = [];
  if (extended && logicalCount > 0) {
    // sfdisk puts each EBR after the first one grain before its logical, so it needs a gap of more than a grain.
    const gapAfterFirst = tool === 'sfdisk' ? grain : 1;
    const fitting = Math.min(logicalCount, Math.floor((extended.size - 1) / (gapAfterFirst + 2)));
    const share = Math.floor((extended.size - 1) / Math.max(1, fitting));
    let inner = extended.start + 1;
    for (let i = 0; i < fitting; i++) {
      const minGap = i === 0 ? 0 : gapAfterFirst;
      const { start, size } = place(int, inner, share, grain, minGap, 1);
      inner = start + size;
      logicals.push({ start, size, type: pick(TYPES), bootable: rnd() < 0.1, ...(tool === 'parted' ? { partedFsType: pick(PARTED_FS), partedFlags: rnd() < 0.3 ? [pick(PARTED_FLAGS)] : [] } : {}) });
    }
  }
  return { id, tool, sectorSize, sectorCount, diskId: Math.floor(rnd() * 2 ** 32), primaries, logicals };
}

/** A start at `from` plus a random gap (at least `minGap`, often aligned to the grain) and a size within `share`. */
function place(int: (lo: number, hi: number) => number, from: number, share: number, grain: number, minGap: number, minSize: number) {
  const last = from + share - 1;
  let start = from + minGap + (int(0, 2) === 0 ? 0 : int(0, Math.max(0, Math.floor(share / 8))));
  const aligned = Math.ceil(start / grain) * grain;
  if (int(0, 1) === 0 && aligned <= last) start = aligned;
  if (start > last) start = Math.min(from + minGap, last);
  const room = Math.max(1, last - start + 1);
  const size = Math.max(Math.min(minSize, room), int(Math.max(1, Math.floor(room / 3)), room));
  return { start, size };
}

function shuffle<T>(rnd: () => number, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** The sfdisk script for a spec: every partition with an explicit start, size, type and bootable flag. */
export function sfdiskScript(spec: MbrLayoutSpec): string {
  const line = (n: number, p: MbrSpecPartition) => `p${n} : start=${p.start}, size=${p.size}, type=${p.type.toString(16)}${p.bootable ? ', bootable' : ''}`;
  return [
    'label: dos',
    `label-id: 0x${spec.diskId.toString(16).padStart(8, '0')}`,
    'unit: sectors',
    '',
    ...[...spec.primaries].sort((a, b) => a.slot! - b.slot!).map((p) => line(p.slot!, p)),
    ...spec.logicals.map((p, i) => line(5 + i, p)),
    '',
  ].join('\n');
}

/** parted's arguments: mklabel, mkpart in slot order (parted numbers primaries by creation), then the flags. */
export function partedArgs(spec: MbrLayoutSpec, target: string): string[] {
  const args = ['-s', '-a', 'none', target, 'mklabel', 'msdos'];
  const sets: string[] = [];
  const ordered = [...spec.primaries].sort((a, b) => a.slot! - b.slot!);
  ordered.forEach((p, i) => {
    const extended = [0x05, 0x0f, 0x85].includes(p.type);
    args.push('mkpart', extended ? 'extended' : 'primary', ...(!extended && p.partedFsType ? [p.partedFsType] : []), `${p.start}s`, `${p.start + p.size - 1}s`);
    for (const flag of p.partedFlags ?? []) sets.push('set', String(i + 1), flag, 'on');
    if (p.bootable && !sets.includes('boot')) sets.push('set', String(i + 1), 'boot', 'on');
  });
  spec.logicals.forEach((p, i) => {
    args.push('mkpart', 'logical', ...(p.partedFsType ? [p.partedFsType] : []), `${p.start}s`, `${p.start + p.size - 1}s`);
    for (const flag of p.partedFlags ?? []) sets.push('set', String(5 + i), flag, 'on');
  });
  return [...args, ...sets];
}

/** Makes the spec's table on `target` (an image file or a loop device) with the spec's tool, telling no kernel. */
export async function buildMbrLayout(spec: MbrLayoutSpec, target: string): Promise<void> {
  if (spec.tool === 'sfdisk') {
    await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '--wipe', 'never', target], { input: sfdiskScript(spec) });
    return;
  }
  await run('parted', partedArgs(spec, target));
}

export const MBR_TEST_MIB = MIB;
