// `disk volumes [device...]`: volumes that span disks, read from the disks themselves: LVM2 PVs, VGs and LVs (read-only;
// no lvm2 tools, no device-mapper needed). Without devices, every disk and partition the kernel lists is read.
import type { CommandArgs, CommandResult, PluginContext } from '../../sdk/index.js';
import { formatBytes, renderTable } from '../../sdk/index.js';
import { readLvm } from './lvm/lvm-volumes.js';

interface DisksAnswer {
  disks: { path: string; kind: string; partitions: { path: string }[] }[];
}

export const volumesCommand = (ctx: PluginContext) => async (args: CommandArgs): Promise<CommandResult> => {
  let devices = [...args.positionals];
  if (devices.length === 0) {
    const { disks } = (await ctx.commands.executeCommand('shadowdisk.partition.disks', {})).data as DisksAnswer;
    devices = disks.filter((d) => d.kind === 'block-device').flatMap((d) => [d.path, ...d.partitions.map((p) => p.path)]);
  }
  const lvm = await readLvm(devices);
  const text = [
    lvm.pvs.length ? renderTable(['PV', 'VG', 'SIZE', 'EXTENTS', 'USED', 'UUID'], lvm.pvs.map((p) => [p.device, p.vgName, formatBytes(p.sizeBytes), p.peCount, p.peAllocCount, p.uuid])) : 'No LVM physical volumes found',
    ...(lvm.vgs.length ? [renderTable(['VG', 'PVS', 'LVS', 'EXTENT', 'SIZE', 'FREE', 'MISSING PVS'], lvm.vgs.map((v) => [v.name, v.pvCount, v.lvCount, formatBytes(v.extentSizeBytes), formatBytes(v.sizeBytes), formatBytes(v.freeBytes), v.missingPvUuids.length]))] : []),
    ...(lvm.lvs.length ? [renderTable(['LV', 'VG', 'SIZE', 'SEGMENTS', 'ON'], lvm.lvs.map((l) => [l.name, l.vgName, formatBytes(l.sizeBytes), l.segments.length, [...new Set(l.segments.flatMap((s) => s.stripes.map((st) => st.device ?? `${st.pv} (missing)`)))].join(',')]))] : []),
  ].join('\n\n');
  return { data: { devices, lvm }, text };
};
