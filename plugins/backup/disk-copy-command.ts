// `disk copy <source> <target>`: a disk onto a disk (or a partition onto a partition, or between image files),
// used blocks only, streaming, with the restore's target checks, journal and table handling; no image in between.
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { formatBytes, renderTable, ShadowError } from '../../sdk/index.js';
import { positional } from './command-args.js';
import type { RestorePlan } from './engine/restore-target.js';
import { settleTargetTable, wipeTableAreas } from './engine/restore-target.js';
import { canonicalPath, identify } from './engine/device-identity.js';
import { checkCopyEnds, copyBytes, copyToTarget, planDiskCopy } from './engine/disk-copy-job.js';
import { SourceReader } from './engine/source-reader.js';
import { noticeInterrupted, refuseIncompleteSource, restoreJournals, statusCommand } from './restore-status.js';

/** What the copy takes from each region of the source, for --dry-run and the result. */
function regionsOf(plan: RestorePlan) {
  return plan.manifest.streams.map((s) => ({
    kind: s.kind, partition: s.partition ?? null, filesystem: s.filesystem, method: s.method,
    startBytes: s.startBytes, sizeBytes: s.sizeBytes, usedBytes: s.packedBytes,
  }));
}

function regionTable(regions: ReturnType<typeof regionsOf>): string {
  return renderTable(['region', 'filesystem', 'start', 'size', 'copied', 'how'], regions.map((r) => [
    r.kind === 'partition' ? `partition ${r.partition}` : r.kind, r.filesystem, formatBytes(r.startBytes), formatBytes(r.sizeBytes), formatBytes(r.usedBytes), r.method,
  ]));
}

export const diskCopyCommand = (ctx: PluginContext) => async (args: CommandArgs, run: RunContext): Promise<CommandResult> => {
  const journals = restoreJournals(ctx);
  const status = statusCommand(journals, args);
  if (status) return status;
  const source = canonicalPath(positional(args, 0, 'the source disk, partition or image file'));
  const target = canonicalPath(positional(args, 1, 'the target disk, partition or image file'));
  checkCopyEnds(source, target);
  refuseIncompleteSource(journals, source, 'copy');
  const earlier = noticeInterrupted(journals, target, source, run);
  const interrupted = earlier ? { interruptedBefore: earlier.report } : {};
  await using reader = await SourceReader.open(source);
  const plan = await planDiskCopy(ctx, reader, target, run);
  const regions = regionsOf(plan);
  const total = copyBytes(plan);
  const what = `${formatBytes(total)} of ${formatBytes(plan.manifest.source.sizeBytes)} (${plan.manifest.source.kind}${plan.manifest.table ? `, ${plan.manifest.table.kind.toUpperCase()}` : ''})`;
  if (args.options['dry-run'] === true) {
    return {
      data: { source, target, dryRun: true, sourceBytes: plan.manifest.source.sizeBytes, targetBytes: plan.targetBytes, copyBytes: total, table: plan.manifest.table?.kind ?? null, regions, ...interrupted },
      text: [`Dry run: would copy ${what} from ${source} onto ${target} (${formatBytes(plan.targetBytes)}); nothing was written`, regionTable(regions), ...(earlier ? [earlier.note] : [])].join('\n'),
    };
  }
  if (args.options['yes'] !== true && !(await run.confirm?.(`Overwrite ${target} with a copy of ${source}?`))) {
    throw new ShadowError('ABORTED', `Not copied: confirm with --yes (or answer yes on a terminal) to overwrite ${target}`);
  }
  const started = performance.now();
  const journal = { operation: 'disk copy' as const, target, targetIdentity: identify(target)!, source };
  const { written, gptBackupMoved } = await journals.track(journal, run, async (tracked) => {
    if (plan.manifest.source.kind === 'disk') {
      tracked.progress({ phase: 'wipe tables', done: 0, total: 1 });
      await wipeTableAreas(target, plan.targetBytes, plan.isBlockDevice);
    }
    const written = await copyToTarget(reader, plan, tracked);
    return { written, gptBackupMoved: await settleTargetTable(ctx, plan, tracked) };
  });
  const seconds = (performance.now() - started) / 1000;
  const mibPerSec = total / 1048576 / Math.max(seconds, 1e-6);
  return {
    data: { source, target, sourceBytes: plan.manifest.source.sizeBytes, targetBytes: plan.targetBytes, copyBytes: total, bytesWritten: written, seconds, mibPerSec, gptBackupMoved, regions, ...interrupted },
    text: [
      `Copied ${what} from ${source} onto ${target} in ${seconds.toFixed(1)} s (${mibPerSec.toFixed(0)} MiB/s)${gptBackupMoved ? '; moved the backup GPT to the end of the larger disk' : ''}${earlier?.sameSource ? `; this finished the copy interrupted at ${earlier.report.percent}%` : ''}`,
      regionTable(regions),
    ].join('\n'),
  };
};
