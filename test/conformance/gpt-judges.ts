// Independent judges for one GPT case: our parse against sfdisk --json and sgdisk -i, our writes against sfdisk --verify,
// sgdisk -v, parted and sfdisk's own bytes, and read→write byte identity.
import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { readGptDisk } from '../../plugins/partition/table/gpt-disk.js';
import { writeGptDisk } from '../../plugins/partition/table/gpt-disk-write.js';
import { gptDiskToLayout, layoutToGptDisk } from '../../plugins/partition/table/gpt-layout.js';
import type { Layout } from '../../plugins/partition/table/layout.js';
import type { SectorReader, SectorWrite } from '../../plugins/partition/table/sector-io.js';
import { run } from '../helpers/index.js';
import { type GptCase, makeGptCase, sfdiskAttributes, sfdiskPartitionLine } from './gpt-layouts.js';

/** Where a case runs: an image file, seen by the tools either as the file itself or through a loop device. */
export interface GptBench {
  /** What the tools open. */
  readonly device: string;
  /** The backing file we read and write. */
  readonly file: string;
  /** Makes the disk blank with `sectorCount` sectors. */
  reset(sectorCount: number): Promise<void>;
}

export function imageBench(file: string, sectorSize: number): GptBench {
  return { device: file, file, reset: async (n) => { await truncate(file, 0); await truncate(file, n * sectorSize); } };
}

export function loopBench(file: string, device: string, sectorSize: number): GptBench {
  return {
    device,
    file,
    async reset(n) {
      await truncate(file, 0);
      await truncate(file, n * sectorSize);
      await run('losetup', ['--set-capacity', device]);
      await run('blockdev', ['--flushbufs', device]);
    },
  };
}

export function fileReader(file: string, sectorSize: number): SectorReader {
  return (lba, count) => {
    const fd = openSync(file, 'r');
    try {
      const out = new Uint8Array(count * sectorSize);
      const got = readSync(fd, out, 0, out.length, lba * sectorSize);
      if (got !== out.length) throw new Error(`Short read of ${file} at LBA ${lba}: ${got} of ${out.length} bytes`);
      return out;
    } finally {
      closeSync(fd);
    }
  };
}

export function writeSectors(file: string, sectorSize: number, writes: readonly SectorWrite[]): void {
  const fd = openSync(file, 'r+');
  try {
    for (const w of writes) writeSync(fd, w.bytes, 0, w.bytes.length, w.lba * sectorSize);
  } finally {
    closeSync(fd);
  }
}

/** Runs a tool keeping stdout as bytes (sgdisk prints names in its own, not quite UTF-8, encoding). */
function runBytes(command: string, args: readonly string[]): Promise<{ stdout: Buffer; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr: stderr.toString('utf8'), code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
    });
  });
}

export interface CaseResult {
  readonly id: number;
  readonly problems: string[];
}

/** Runs every judge on one case; returns the problems found (empty when all judges agree). */
export async function checkGptCase(c: GptCase, bench: GptBench): Promise<CaseResult> {
  const problems: string[] = [];
  const geometry = { sectorSize: c.sectorSize, sectorCount: c.sectorCount };
  await bench.reset(c.sectorCount);
  await makeGptCase(c, bench.device);
  const reader = fileReader(bench.file, c.sectorSize);
  const disk = readGptDisk(reader, geometry);
  if (disk.warnings.length) problems.push(`warnings on a fresh ${c.tool} table: ${disk.warnings.join('; ')}`);
  const layout = gptDiskToLayout(disk);
  problems.push(...(await judgeSfdiskJson(layout, bench.device)));
  problems.push(...(await judgeSgdiskInfo(layout, bench.device)));
  for (const w of writeGptDisk(disk, geometry)) {
    if (!equalBytes(w.bytes, reader(w.lba, w.bytes.length / c.sectorSize))) problems.push(`round trip: the ${w.bytes.length} bytes at LBA ${w.lba} differ from ${c.tool}'s`);
  }
  // Write conformance: our table for the parsed layout on a blank disk must satisfy all three tools.
  const ours = writeGptDisk(layoutToGptDisk(layout), geometry);
  await bench.reset(c.sectorCount);
  writeSectors(bench.file, c.sectorSize, ours);
  if (bench.device !== bench.file) await run('blockdev', ['--flushbufs', bench.device]);
  problems.push(...(await judgeWritten(bench.device, partedCannotShowNames(layout))));
  // sfdisk writing the same layout (same GUIDs, usable range and slots) must give the same bytes.
  await bench.reset(c.sectorCount);
  const comparable = withBmpNames(layout);
  const expected = comparable === layout ? ours : writeGptDisk(layoutToGptDisk(comparable), geometry);
  await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', bench.device], { input: sfdiskScriptFor(comparable, bench.device) });
  for (const w of expected) {
    if (!equalBytes(w.bytes, reader(w.lba, w.bytes.length / c.sectorSize))) problems.push(`sfdisk bytes: the ${w.bytes.length} bytes at LBA ${w.lba} differ from ours (${firstDifference(w.bytes, reader(w.lba, w.bytes.length / c.sectorSize))})`);
  }
  return { id: c.id, problems };
}

async function judgeSfdiskJson(layout: Layout, device: string): Promise<string[]> {
  const { stdout } = await run('sfdisk', ['--json', device]);
  const table = (JSON.parse(stdout) as { partitiontable: SfdiskTable }).partitiontable;
  const problems: string[] = [];
  const expect = (what: string, ours: unknown, theirs: unknown) => {
    if (ours !== theirs) problems.push(`sfdisk --json ${what}: ours ${JSON.stringify(ours)}, sfdisk ${JSON.stringify(theirs)}`);
  };
  expect('label', 'gpt', table.label);
  expect('id', layout.diskId.toUpperCase(), table.id);
  expect('firstlba', layout.firstUsableLba, table.firstlba);
  expect('lastlba', layout.lastUsableLba, table.lastlba);
  expect('sectorsize', layout.geometry.sectorSize, table.sectorsize);
  const theirs = table.partitions ?? [];
  expect('partition count', layout.partitions.length, theirs.length);
  for (const [i, p] of layout.partitions.entries()) {
    const t = theirs[i];
    if (!t) break;
    const at = `partition ${p.number}`;
    expect(`${at} number`, p.number, Number(/(\d+)$/.exec(t.node)?.[1]));
    expect(`${at} start`, p.startLba, t.start);
    expect(`${at} size`, p.sizeSectors, t.size);
    expect(`${at} type`, p.gpt!.typeGuid.toUpperCase(), t.type);
    expect(`${at} uuid`, p.gpt!.uuid.toUpperCase(), t.uuid);
    expect(`${at} name`, p.gpt!.name || undefined, t.name);
    expect(`${at} attrs`, sfdiskAttributes(p.gpt!.attributes) || undefined, t.attrs);
  }
  return problems;
}

interface SfdiskTable {
  label: string; id: string; firstlba: number; lastlba: number; sectorsize: number;
  partitions?: { node: string; start: number; size: number; type: string; uuid: string; name?: string; attrs?: string }[];
}

async function judgeSgdiskInfo(layout: Layout, device: string): Promise<string[]> {
  if (layout.partitions.length === 0) return [];
  const { stdout } = await runBytes('sgdisk', [...layout.partitions.flatMap((p) => ['-i', String(p.number)]), device]);
  const blocks = stdout.toString('latin1').split(/(?=Partition GUID code:)/).filter((b) => b.startsWith('Partition GUID code:'));
  const problems: string[] = [];
  for (const [i, p] of layout.partitions.entries()) {
    const block = blocks[i] ?? '';
    const field = (label: string) => new RegExp(`^${label}: (.*)$`, 'm').exec(block)?.[1];
    const expected: [string, string | undefined, string][] = [
      ['Partition GUID code', field('Partition GUID code')?.split(' ')[0], p.gpt!.typeGuid.toUpperCase()],
      ['Partition unique GUID', field('Partition unique GUID'), p.gpt!.uuid.toUpperCase()],
      ['First sector', field('First sector')?.split(' ')[0], String(p.startLba)],
      ['Last sector', field('Last sector')?.split(' ')[0], String(p.startLba + p.sizeSectors - 1)],
      ['Attribute flags', field('Attribute flags'), p.gpt!.attributes.toString(16).toUpperCase().padStart(16, '0')],
      ['Partition name', field('Partition name'), `'${Buffer.from(sgdiskUtf8(p.gpt!.name)).toString('latin1')}'`],
    ];
    for (const [label, theirs, ours] of expected) {
      if (theirs !== ours) problems.push(`sgdisk -i ${p.number} ${label}: ours ${JSON.stringify(ours)}, sgdisk ${JSON.stringify(theirs)}`);
    }
  }
  return problems;
}

/**
 * UTF-8 as sgdisk 1.0.9 prints it: the second byte of each 4-byte sequence carries 0xe0 instead of 0x80 as its
 * marker bits (its UTF-16 → UTF-8 conversion has that slip); everything else is plain UTF-8.
 */
export function sgdiskUtf8(name: string): Uint8Array {
  const bytes = Buffer.from(name, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0xf0) {
      bytes[i + 1] = bytes[i + 1]! | 0x60;
      i += 3;
    }
  }
  return bytes;
}

/** `untranslatable`: see partedCannotShowNames; parted's "failed to translate partition name" warning is expected then. */
async function judgeWritten(device: string, untranslatable: boolean): Promise<string[]> {
  const problems: string[] = [];
  const verify = await run('sfdisk', ['--verify', device], { allowFailure: true });
  if (!verify.stdout.includes('No errors detected.') || verify.stderr.trim()) problems.push(`sfdisk --verify on our table: ${verify.stdout.trim()} ${verify.stderr.trim()}`);
  const sgdisk = await run('sgdisk', ['-v', device], { allowFailure: true });
  if (!sgdisk.stdout.includes('No problems found.')) problems.push(`sgdisk -v on our table: ${sgdisk.stdout.trim()} ${sgdisk.stderr.trim()}`);
  const parted = await run('parted', ['-s', '-m', device, 'unit', 's', 'print'], { allowFailure: true });
  const partedStderr = parted.stderr.split('\n').filter((l) => l.trim() && !(untranslatable && l.includes('failed to translate partition name'))).join('\n');
  if (parted.code !== 0 || partedStderr) problems.push(`parted print on our table: exit ${parted.code}, ${partedStderr}`);
  return problems;
}

/** sfdisk 2.38 drops names with characters outside the BMP; compare bytes on a copy with such characters replaced. */
function withBmpNames(layout: Layout): Layout {
  if (!hasNonBmpName(layout)) return layout;
  return { ...layout, partitions: layout.partitions.map((p) => ({ ...p, gpt: { ...p.gpt!, name: p.gpt!.name.replace(/[\u{10000}-\u{10ffff}]/gu, 'ab') } })) };
}

/**
 * parted 3.5 warns "failed to translate partition name" (and shows none) for names with characters outside the BMP,
 * and also warns, while writing and showing them correctly, for names that fill all 36 code units.
 */
export function partedCannotShowNames(layout: Pick<Layout, 'partitions'>): boolean {
  return hasNonBmpName(layout) || layout.partitions.some((p) => p.gpt!.name.length === 36);
}

function hasNonBmpName(layout: Pick<Layout, 'partitions'>): boolean {
  return layout.partitions.some((p) => /[\u{10000}-\u{10ffff}]/u.test(p.gpt!.name));
}

function sfdiskScriptFor(layout: Layout, device: string): string {
  const prefix = /\d$/.test(device) ? `${device}p` : device;
  const lines = ['label: gpt', `label-id: ${layout.diskId}`, `first-lba: ${layout.firstUsableLba}`, `last-lba: ${layout.lastUsableLba}`, `table-length: ${layout.partitionSlots ?? 128}`, ''];
  for (const p of layout.partitions) {
    lines.push(`${prefix}${p.number} : ${sfdiskPartitionLine({ startLba: p.startLba, endLba: p.startLba + p.sizeSectors - 1, ...p.gpt! })}`);
  }
  return `${lines.join('\n')}\n`;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return `first at byte ${i}: ours 0x${a[i]!.toString(16)}, sfdisk 0x${b[i]!.toString(16)}`;
  return `lengths ${a.length} and ${b.length}`;
}
