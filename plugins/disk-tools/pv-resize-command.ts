// `disk pv-resize <pv> <size> [--dry-run] [--yes]`: an LVM2 physical volume's size in its metadata, through lvm2's own
// pvresize, after our check from the on-disk metadata that no allocated extent lies past the new end.
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { formatBytes, ShadowError } from '../../sdk/index.js';
import { runTool } from '../../sdk/node.js';
import { parseBytes, positional } from './command-args.js';
import { readLvm, type LvmView } from './lvm/lvm-volumes.js';
import { allBlockDevices, resolveTarget } from './target-device.js';

/** The smallest size the PV on `device` can have: its data start plus every extent up to the last allocated one. */
export function minimumPvBytes(view: LvmView, device: string): { minimumBytes: number; lastAllocatedExtent: number | null } {
  const pv = view.pvs.find((p) => p.device === device);
  const vg = view.vgs.find((v) => v.name === pv?.vgName);
  if (!pv || !vg || pv.peStartBytes === null) return { minimumBytes: 0, lastAllocatedExtent: null };
  let last = -1;
  for (const lv of view.lvs.filter((l) => l.vgName === vg.name)) {
    for (const segment of lv.segments) {
      const perStripe = segment.extentCount / Math.max(1, segment.stripes.length);
      for (const stripe of segment.stripes) if (stripe.device === device) last = Math.max(last, stripe.startExtent + perStripe - 1);
    }
  }
  return { minimumBytes: pv.peStartBytes + (last + 1) * vg.extentSizeBytes, lastAllocatedExtent: last < 0 ? null : last };
}

export const pvResizeCommand = (ctx: PluginContext) => async (args: CommandArgs, run: RunContext): Promise<CommandResult> => {
  const target = await resolveTarget(ctx, positional(args, 0, 'the LVM physical volume'));
  const sizeBytes = parseBytes(positional(args, 1, 'the new size (like 10GiB)'), target.logicalSectorSize, 'the new size');
  // The whole group is needed: the other PVs hold extents and metadata too, and lvm2 refuses a group with PVs missing.
  // Where lvm2 last saw them first; every disk and partition when a hint is stale.
  const hints = (await readLvm([target.path])).vgs[0]?.deviceHints ?? [];
  let view = await readLvm([...new Set([target.path, ...hints])]);
  if (view.vgs.some((vg) => vg.missingPvUuids.length > 0)) view = await readLvm([...new Set([target.path, ...(await allBlockDevices(ctx))])]);
  const pv = view.pvs.find((p) => p.device === target.path);
  if (!pv) throw new ShadowError('INVALID_ARGUMENT', `${target.path} is not an LVM physical volume (no LVM2 label in its first sectors)`);
  if (sizeBytes > target.sizeBytes) throw new ShadowError('SIZE_MISMATCH', `${target.path} holds ${target.sizeBytes} bytes; a PV cannot be ${sizeBytes} bytes on it. Grow the partition first`);
  const { minimumBytes, lastAllocatedExtent } = minimumPvBytes(view, target.path);
  if (sizeBytes < minimumBytes) {
    throw new ShadowError('SIZE_MISMATCH', `Cannot shrink PV ${target.path} to ${formatBytes(sizeBytes)} (${sizeBytes} bytes): extent ${lastAllocatedExtent} is allocated, so it needs at least ${minimumBytes} bytes. Nothing was written; move the extents away first (pvmove)`, { details: { minimumBytes, lastAllocatedExtent } });
  }
  const data = { device: target.path, vgName: pv.vgName, fromBytes: pv.sizeBytes, toBytes: sizeBytes, minimumBytes, lastAllocatedExtent };
  if (args.options['dry-run'] === true) return { data: { ...data, dryRun: true }, text: `Dry run: would set PV ${target.path} to ${formatBytes(sizeBytes)} (at least ${formatBytes(minimumBytes)}); nothing was written` };
  if (args.options['yes'] !== true && !(await run.confirm?.(`Resize PV ${target.path} to ${formatBytes(sizeBytes)}?`))) {
    throw new ShadowError('ABORTED', `Not resized: confirm with --yes (or answer yes on a terminal)`);
  }
  // lvm2 scans only this group's devices, and writes its metadata backup as it always does.
  const groupDevices = view.pvs.filter((p) => p.device === target.path || (pv.vgName !== null && p.vgName === pv.vgName)).map((p) => p.device);
  await runTool('pvresize', ['--devices', groupDevices.join(','), '--yes', '--setphysicalvolumesize', `${sizeBytes}b`, target.path], { signal: run.signal });
  const after = (await readLvm([target.path])).pvs.find((p) => p.device === target.path);
  return { data: { ...data, dryRun: false, peCount: after?.peCount ?? null }, text: `PV ${target.path} is now ${formatBytes(after?.sizeBytes ?? sizeBytes)} (${after?.peCount ?? '?'} extents)` };
};
