// `shadowdisk demo`: a sparse demo disk made on the spot, attached as a loop device, inspected and read back through O_DIRECT.
// It grows as features land (partitioning, imaging, hot snapshots).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { allocAligned, attachLoop, detachLoop, DirectFile } from '../../native/index.js';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { formatBytes, ShadowError } from '../../sdk/index.js';

const MIB = 1024 * 1024;
const READ_BLOCK = 4 * MIB;

export async function demoCommand(ctx: PluginContext, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const sizeMiB = Number(args.options['size-mib'] ?? ctx.settings.get<number>('workbench.demoSizeMiB') ?? 256);
  if (!Number.isInteger(sizeMiB) || sizeMiB < 8 || sizeMiB > 64 * 1024) {
    throw new ShadowError('INVALID_ARGUMENT', `--size-mib must be a whole number from 8 to 65536, got '${String(args.options['size-mib'])}'`);
  }
  const dir = join(ctx.storagePath, 'demo');
  await mkdir(dir, { recursive: true });
  const image = join(dir, `demo-disk-${process.pid}.img`);
  run.progress({ phase: 'create', done: 0, total: sizeMiB * MIB });
  const written = await writeDemoImage(image, sizeMiB * MIB, run);
  const imageSha256 = await sha256OfFile(image);
  let device: string | undefined;
  try {
    run.progress({ phase: 'attach', done: 0, total: 1 });
    device = attachLoop(image, { directIo: true });
    run.log.info(`Attached the demo disk ${image} as ${device}`);
    const inspected = await ctx.commands.executeCommand('shadowdisk.partition.disks', { positionals: [device] });
    const disk = (inspected.data as { disks: unknown[] }).disks[0];
    const read = await readDevice(device, sizeMiB * MIB, run);
    const matches = read.sha256 === imageSha256;
    if (!matches) throw new ShadowError('IO_ERROR', `The demo device ${device} read back ${read.sha256} but the image holds ${imageSha256}`);
    const data = { image, device, sizeBytes: sizeMiB * MIB, writtenBytes: written, disk, read: { ...read, matches }, kept: args.options['keep'] === true };
    const text = [
      `Demo disk ${image} (${formatBytes(sizeMiB * MIB)}, ${formatBytes(written)} written, the rest sparse)`,
      `attached as ${device}; 'shadowdisk disks' sees it with ${(disk as { logicalSectorSize: number }).logicalSectorSize}-byte sectors`,
      `read back through O_DIRECT at ${read.mibPerSec.toFixed(0)} MiB/s: ${read.nonZeroBlocks} non-zero 4 MiB blocks, SHA-256 matches the image`,
      data.kept ? `kept: detach with 'losetup -d ${device}' when done` : 'detached and removed',
    ].join('\n');
    return { data, text };
  } finally {
    if (device && args.options['keep'] !== true) detachLoop(device);
    if (args.options['keep'] !== true) await rm(image, { force: true });
  }
}

/** Writes a recognisable pattern into every eighth MiB, leaving the rest as holes. */
async function writeDemoImage(path: string, sizeBytes: number, run: RunContext): Promise<number> {
  const handle = await open(path, 'w');
  let written = 0;
  try {
    await handle.truncate(sizeBytes);
    const block = Buffer.alloc(MIB);
    for (let offset = 0; offset < sizeBytes; offset += 8 * MIB) {
      run.signal.throwIfAborted();
      for (let i = 0; i < MIB; i += 8) block.writeBigUInt64LE(BigInt(offset + i) ^ 0x5348414444495348n, i);
      await handle.write(block, 0, MIB, offset);
      written += MIB;
      run.progress({ phase: 'create', done: offset + MIB, total: sizeBytes });
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return written;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: READ_BLOCK })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readDevice(device: string, sizeBytes: number, run: RunContext): Promise<{ sha256: string; nonZeroBlocks: number; mibPerSec: number }> {
  using file = DirectFile.open(device, 'r');
  const buffer = allocAligned(READ_BLOCK, file.alignment);
  const zeros = Buffer.alloc(READ_BLOCK);
  const hash = createHash('sha256');
  let nonZeroBlocks = 0;
  const started = performance.now();
  for (let offset = 0; offset < sizeBytes; offset += READ_BLOCK) {
    run.signal.throwIfAborted();
    const n = await file.read(buffer, BigInt(offset));
    const chunk = buffer.subarray(0, n);
    hash.update(chunk);
    if (!chunk.equals(zeros.subarray(0, n))) nonZeroBlocks++;
    run.progress({ phase: 'read', done: offset + n, total: sizeBytes });
  }
  const seconds = (performance.now() - started) / 1000;
  return { sha256: hash.digest('hex'), nonZeroBlocks, mibPerSec: sizeBytes / MIB / Math.max(seconds, 1e-6) };
}
