// `disk surface-test <disk|partition> [--range A-B] [--block-size SIZE]`: a read-only scan with progress and ETA; the
// bad-sector map (LBA ranges of the disk, each with the partition it falls in) is saved in the state directory.
import { basename, join } from 'node:path';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { formatBytes, renderTable, ShadowError } from '../../sdk/index.js';
import { writeStateFileDurably } from '../../sdk/node.js';
import { parseBytes, positional } from './command-args.js';
import { scanSurface } from './surface-scan.js';
import { writeTestSurface, type WriteTestResult } from './surface-write-test.js';
import { openForWriting, refuseBusy, resolveTarget, type TargetDevice } from './target-device.js';

const DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024;

function rangeOf(args: CommandArgs, target: TargetDevice): [number, number] {
  const text = args.options['range'];
  if (text === undefined) return [0, target.sizeBytes];
  const match = typeof text === 'string' ? /^([^-]+)-([^-]+)$/.exec(text) : null;
  if (!match) throw new ShadowError('INVALID_ARGUMENT', `Cannot read --range '${String(text)}'; write it as START-END in sectors (2048-4096) or sizes (1MiB-2GiB), the end excluded`);
  const start = parseBytes(match[1]!, target.logicalSectorSize, 'the range start');
  const end = Math.min(parseBytes(match[2]!, target.logicalSectorSize, 'the range end'), target.sizeBytes);
  if (start >= end) throw new ShadowError('INVALID_ARGUMENT', `--range '${text}' is empty on ${target.path} (${target.sizeBytes} bytes); give START below END`);
  return [start, end];
}

export const surfaceTestCommand = (ctx: PluginContext) => async (args: CommandArgs, run: RunContext): Promise<CommandResult> => {
  const target = await resolveTarget(ctx, positional(args, 0, 'the disk or partition to test'));
  if (target.kind === 'image-file') throw new ShadowError('INVALID_ARGUMENT', `${target.path} is an image file; a surface test reads a device (attach it with losetup to test the file's medium)`);
  const [startBytes, endBytes] = rangeOf(args, target);
  const blockBytes = args.options['block-size'] === undefined ? DEFAULT_BLOCK_BYTES : parseBytes(String(args.options['block-size']), target.logicalSectorSize, '--block-size');
  if (blockBytes < target.logicalSectorSize || blockBytes > 64 * 1024 * 1024) throw new ShadowError('INVALID_ARGUMENT', `--block-size must be from one sector to 64MiB, got ${blockBytes} bytes`);
  const startedAt = new Date().toISOString();
  const stamp = startedAt.replace(/[:.]/g, '-');
  let writeTest: WriteTestResult | null = null;
  if (args.options['write-test'] === true) {
    // Writes, even when each block is put back: only on a target nothing uses, and only when asked twice.
    refuseBusy(target, 'write-test');
    if (args.options['yes'] !== true && !(await run.confirm?.(`Write test patterns over every block of ${target.path} (each block is restored)?`))) {
      throw new ShadowError('ABORTED', `No write test: confirm with --yes (or answer yes on a terminal)`);
    }
    const claim = await openForWriting(target);
    try {
      writeTest = await writeTestSurface(target.path, startBytes, endBytes, blockBytes, join(ctx.storagePath, 'surface', `${basename(target.diskPath)}-${stamp}.write-test-block`), run);
    } finally {
      await claim.close();
    }
  }
  const scan = await scanSurface(target.path, startBytes, endBytes, blockBytes, run);
  // LBAs of the disk, whatever was scanned, so maps of a disk and of its partitions agree.
  const sectorsBefore = target.startBytes / scan.sectorSize;
  const partitions = target.partitions;
  const badRanges = scan.badRanges.map((r) => {
    const firstLba = r.firstLba + sectorsBefore;
    const byteStart = firstLba * scan.sectorSize;
    const partition = target.kind === 'partition' ? target.path
      : partitions.find((p) => byteStart < p.startBytes + p.sizeBytes && byteStart + r.count * scan.sectorSize > p.startBytes)?.path ?? null;
    return { firstLba, count: r.count, lastLba: firstLba + r.count - 1, partition };
  });
  const badSectors = badRanges.reduce((sum, r) => sum + r.count, 0);
  const map = {
    device: target.path, disk: target.diskPath, sectorSize: scan.sectorSize, startedAt, rangeBytes: [startBytes, endBytes], blockBytes,
    readBytes: scan.readBytes, seconds: scan.seconds, mibPerSec: scan.readBytes / 1048576 / Math.max(scan.seconds, 1e-9), retryReads: scan.retryReads, badSectors, badRanges,
    writeTest: writeTest && { ...writeTest, badRanges: writeTest.badRanges.map((r) => ({ ...r, firstLba: r.firstLba + sectorsBefore })), unreadableRanges: writeTest.unreadableRanges.map((r) => ({ ...r, firstLba: r.firstLba + sectorsBefore })) },
  };
  const mapPath = join(ctx.storagePath, 'surface', `${basename(target.diskPath)}-${stamp}.json`);
  writeStateFileDurably(mapPath, map);
  return {
    data: { ...map, mapFile: mapPath },
    text: [
      `Read ${formatBytes(scan.readBytes)} of ${target.path} in ${scan.seconds.toFixed(1)} s (${map.mibPerSec.toFixed(0)} MiB/s): ${badSectors ? `${badSectors} unreadable sector(s) in ${badRanges.length} range(s)` : 'no unreadable sectors'}`,
      ...(badRanges.length ? [renderTable(['FIRST LBA', 'LAST LBA', 'SECTORS', 'PARTITION'], badRanges.map((r) => [r.firstLba, r.lastLba, r.count, r.partition]))] : []),
      ...(writeTest ? [`Write test: ${formatBytes(writeTest.testedBytes)} in ${writeTest.seconds.toFixed(1)} s, ${writeTest.badRanges.length} block(s) did not keep a pattern, every block restored`] : []),
      `Bad-sector map: ${mapPath}`,
    ].join('\n'),
  };
};
