// `shadowdisk fs usage <disk>`: each partition's filesystem (blkid's low-level probe), label, and used bytes (statfs
// when mounted, the superblock's free count for unmounted ext2/3/4), for the disk map's used and free space.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { renderTable, formatBytes, ShadowError, type CommandArgs, type CommandResult } from '../../sdk/index.js';

const exec = promisify(execFile);

export interface PartitionUsage {
  number: number;
  path: string;
  sizeBytes: number;
  filesystem: string | null;
  label: string | null;
  mountpoint: string | null;
  usedBytes: number | null;
}

export async function fsUsageCommand(args: CommandArgs): Promise<CommandResult> {
  const disk = args.positionals[0];
  if (!disk) throw new ShadowError('INVALID_ARGUMENT', 'Name the disk: shadowdisk fs usage <disk>');
  const name = basename(disk);
  let entries: string[];
  try {
    entries = readdirSync(`/sys/block/${name}`).filter((e) => e.startsWith(name) && e !== name);
  } catch {
    throw new ShadowError('NOT_FOUND', `'${disk}' is not a block device the kernel lists in /sys/block`);
  }
  const partitions = await Promise.all(entries.map((entry) => usageOf(`/sys/block/${name}/${entry}`, `/dev/${entry}`)));
  partitions.sort((a, b) => a.number - b.number);
  const text = renderTable(['PARTITION', 'FILESYSTEM', 'LABEL', 'SIZE', 'USED', 'MOUNTED ON'],
    partitions.map((p) => [p.path, p.filesystem, p.label, formatBytes(p.sizeBytes), p.usedBytes === null ? null : formatBytes(p.usedBytes), p.mountpoint]));
  return { data: { disk, partitions }, text };
}

async function usageOf(sys: string, path: string): Promise<PartitionUsage> {
  const number = Number(readFileSync(`${sys}/partition`, 'utf8'));
  const sizeBytes = Number(readFileSync(`${sys}/size`, 'utf8')) * 512;
  const probe = await tool('blkid', ['-p', '-o', 'export', path]);
  const field = (key: string) => probe.match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1] ?? null;
  const filesystem = field('USAGE') === 'filesystem' || field('TYPE') === 'swap' ? field('TYPE') : null;
  const mountpoint = (await tool('findmnt', ['-n', '-o', 'TARGET', '--source', path])).split('\n')[0] || null;
  let usedBytes: number | null = null;
  if (mountpoint) {
    const s = statfsSync(mountpoint);
    usedBytes = (s.blocks - s.bfree) * s.bsize;
  } else if (filesystem && /^ext[234]$/.test(filesystem)) {
    const header = await tool('dumpe2fs', ['-h', path]);
    const value = (key: string) => Number(header.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? Number.NaN);
    const used = (value('Block count') - value('Free blocks')) * value('Block size');
    usedBytes = Number.isFinite(used) ? used : null;
  }
  return { number, path, sizeBytes, filesystem, label: field('LABEL'), mountpoint, usedBytes };
}

/** A probe's output, or '' when the tool finds nothing (blkid exits 2 on an empty partition). */
async function tool(command: string, args: string[]): Promise<string> {
  try {
    return (await exec(command, args)).stdout;
  } catch {
    return '';
  }
}
