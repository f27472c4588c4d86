// `disk wipe <disk|partition> --method signatures|zero|random|discard`: what libblkid finds is listed first (the dry
// run stops there); busy targets are refused before anything is written; a journal in the state directory records
// the wipe (with the erased magic bytes) before the first write; --verify reads back what each method promises.
import { basename, join } from 'node:path';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { formatBytes, renderTable, ShadowError } from '../../sdk/index.js';
import { runTool, writeStateFileDurably } from '../../sdk/node.js';
import { choiceOption, integerOption, positional } from './command-args.js';
import { discardAll, randomPattern, verifyPattern, writePattern, type Pattern, type VerifyResult } from './overwrite.js';
import { probeSignatures, readMagic, zeroMagic, type SavedSignature, type Signature } from './signatures.js';
import { openForWriting, refuseBusy, resolveTarget, type TargetDevice } from './target-device.js';

const METHODS = ['signatures', 'zero', 'random', 'discard'] as const;
type Method = (typeof METHODS)[number];
/** Erasing one signature can uncover another (a filesystem under a partition table): probe again, this many rounds at most. */
const SIGNATURE_ROUNDS = 8;

/** Signatures on the target and, for a disk, on each partition the kernel knows (the table goes last). */
async function findSignatures(target: TargetDevice): Promise<Signature[]> {
  const inside: Signature[] = [];
  for (const part of target.partitions) inside.push(...(await probeSignatures(part.path)));
  return [...inside, ...(await probeSignatures(target.path))];
}

const signatureRows = (list: readonly Signature[]) => list.map((s) => [s.device, `0x${s.offsetBytes.toString(16)}`, s.lengthBytes, s.type, s.usage, s.label ?? s.uuid]);

export const wipeCommand = (ctx: PluginContext) => async (args: CommandArgs, run: RunContext): Promise<CommandResult> => {
  const given = positional(args, 0, 'the disk or partition to wipe');
  const method = choiceOption(args, 'method', METHODS);
  if (!method) throw new ShadowError('INVALID_ARGUMENT', `Missing --method; choose one of ${METHODS.join(', ')}`);
  const passes = integerOption(args, 'passes', 1, 35) ?? 1;
  if (passes > 1 && (method === 'signatures' || method === 'discard')) throw new ShadowError('INVALID_ARGUMENT', `--passes applies to zero and random, not to ${method}`);
  const verify = args.options['verify'] === true;
  const target = await resolveTarget(ctx, given);
  const base = { target: target.path, kind: target.kind, sizeBytes: target.sizeBytes, method, passes };
  // A busy target is refused before anything, probing included; a dry run lists what is there and why it would be.
  if (args.options['dry-run'] !== true) refuseBusy(target, 'wipe');
  const signatures = await findSignatures(target);
  if (args.options['dry-run'] === true) {
    const writes = method === 'signatures' ? `zero the magic of ${signatures.length} signature(s)` : method === 'discard' ? `discard all ${formatBytes(target.sizeBytes)}` : `write ${passes} pass(es) of ${method === 'zero' ? 'zeros' : 'random data'} over all ${formatBytes(target.sizeBytes)}`;
    return {
      data: { ...base, dryRun: true, signatures, busyReasons: target.busyReasons },
      text: [
        `Dry run: would ${writes} of ${target.path}; nothing was written`,
        signatures.length ? renderTable(['DEVICE', 'OFFSET', 'LENGTH', 'TYPE', 'USAGE', 'LABEL/UUID'], signatureRows(signatures)) : 'No signatures found',
        ...target.busyReasons.map((reason) => `Refused as it stands: ${reason}`),
      ].join('\n'),
    };
  }
  if (args.options['yes'] !== true && !(await run.confirm?.(`Erase ${target.path} (${formatBytes(target.sizeBytes)}, method ${method})? This cannot be undone`))) {
    throw new ShadowError('ABORTED', `Not wiped: confirm with --yes (or answer yes on a terminal) to erase ${target.path}`);
  }
  const journalPath = join(ctx.storagePath, 'wipes', `${new Date().toISOString().replace(/[:.]/g, '-')}-${basename(target.path)}.json`);
  const journal = { ...base, startedAt: new Date().toISOString(), state: 'started' as 'started' | 'done', erased: [] as SavedSignature[], verify: null as VerifyResult | null };
  writeStateFileDurably(journalPath, journal);
  const started = performance.now();

  if (method === 'signatures') {
    for (let round = 0, found = signatures; found.length > 0; round++, found = await findSignatures(target)) {
      if (round === SIGNATURE_ROUNDS) throw new ShadowError('IO_ERROR', `Signatures keep appearing on ${target.path} after ${round} rounds of erasing: ${found.map((s) => s.type).join(', ')}`);
      run.progress({ phase: `erase signatures (round ${round + 1})`, done: journal.erased.length, total: journal.erased.length + found.length });
      journal.erased.push(...(await readMagic(found)));
      writeStateFileDurably(journalPath, journal);
      await zeroMagic(found);
    }
  } else {
    // Held for the whole overwrite: the kernel refuses anyone who would mount or claim the device meanwhile.
    const claim = await openForWriting(target);
    try {
      let last: Pattern = { kind: 'zero' };
      if (method === 'discard') {
        run.progress({ phase: 'discard', done: 0, total: target.sizeBytes });
        // An image file's "discard" is punching the whole file into a hole, as a loop device does with BLKDISCARD.
        if (target.kind === 'image-file') await runTool('fallocate', ['--punch-hole', '--offset', '0', '--length', String(target.sizeBytes), target.path], { signal: run.signal });
        else discardAll(target.path, target.sizeBytes);
      } else {
        for (let pass = 1; pass <= passes; pass++) {
          last = method === 'random' ? randomPattern() : { kind: 'zero' };
          await writePattern(target.path, target.sizeBytes, last, `pass ${pass}/${passes} (${method})`, run);
        }
      }
      if (verify) journal.verify = await verifyPattern(target.path, target.sizeBytes, last, run);
    } finally {
      await claim.close();
    }
  }
  const remaining = await findSignatures(target);
  journal.state = 'done';
  writeStateFileDurably(journalPath, journal);
  const seconds = (performance.now() - started) / 1000;
  const data = { ...base, dryRun: false, erasedSignatures: journal.erased, verify: journal.verify, remainingSignatures: remaining, seconds, journal: journalPath };
  if (journal.verify && journal.verify.mismatchedBytes > 0) {
    const v = journal.verify;
    throw new ShadowError('IO_ERROR', `Verify of ${target.path} failed: ${v.mismatchedBytes} byte(s) differ from what ${method} promised, the first at byte ${v.firstMismatchOffset}${method === 'discard' ? '; this device does not read back zeros after a discard, use --method zero' : ''}`, { details: data });
  }
  if (verify && remaining.length > 0) {
    throw new ShadowError('IO_ERROR', `Verify of ${target.path} failed: libblkid still finds ${remaining.map((s) => `${s.type} at ${s.offsetBytes}`).join(', ')}`, { details: data });
  }
  const what = method === 'signatures' ? `erased ${journal.erased.length} signature(s)` : method === 'discard' ? 'discarded every sector' : `wrote ${passes} pass(es) of ${method === 'zero' ? 'zeros' : 'random data'}`;
  return {
    data,
    text: [
      `Wiped ${target.path}: ${what} in ${seconds.toFixed(1)} s${journal.verify ? `; verified ${formatBytes(journal.verify.checkedBytes)}` : ''}`,
      remaining.length ? `Still found: ${remaining.map((s) => s.type).join(', ')}` : 'No signatures left',
      `Journal: ${journalPath}`,
    ].join('\n'),
  };
};
