// `disk volumes [device...]`: volumes that span disks, read from the disks themselves (read-only; no lvm2 or mdadm,
// no device-mapper or md driver needed): LVM2 PVs, VGs and LVs, and md RAID 1.x members grouped into arrays.
// Without devices, every disk and partition the kernel lists is read.
import type { CommandArgs, CommandResult, PluginContext } from '../../sdk/index.js';
import { formatBytes, renderTable } from '../../sdk/index.js';
import { readLvm } from './lvm/lvm-volumes.js';
import { readMd } from './md/md-members.js';
import { allBlockDevices } from './target-device.js';

export const volumesCommand = (ctx: PluginContext) => async (args: CommandArgs): Promise<CommandResult> => {
  const devices = args.positionals.length ? [...args.positionals] : await allBlockDevices(ctx);
  const [lvm, md] = await Promise.all([readLvm(devices), readMd(devices)]);
  const text = [
    lvm.pvs.length ? renderTable(['PV', 'VG', 'SIZE', 'EXTENTS', 'USED', 'UUID'], lvm.pvs.map((p) => [p.device, p.vgName, formatBytes(p.sizeBytes), p.peCount, p.peAllocCount, p.uuid])) : 'No LVM physical volumes found',
    ...(lvm.vgs.length ? [renderTable(['VG', 'PVS', 'LVS', 'EXTENT', 'SIZE', 'FREE', 'MISSING PVS'], lvm.vgs.map((v) => [v.name, v.pvCount, v.lvCount, formatBytes(v.extentSizeBytes), formatBytes(v.sizeBytes), formatBytes(v.freeBytes), v.missingPvUuids.length]))] : []),
    ...(lvm.lvs.length ? [renderTable(['LV', 'VG', 'SIZE', 'SEGMENTS', 'ON'], lvm.lvs.map((l) => [l.name, l.vgName, formatBytes(l.sizeBytes), l.segments.length, [...new Set(l.segments.flatMap((s) => s.stripes.map((st) => st.device ?? `${st.pv} (missing)`)))].join(',')]))] : []),
    md.members.length ? renderTable(['MD MEMBER', 'ARRAY', 'LEVEL', 'ROLE', 'EVENTS', 'UUID'], md.members.map((m) => [m.device, m.name, m.level, m.role, m.events, m.arrayUuid])) : 'No md RAID members found',
    ...md.arrays.filter((a) => a.missingRoles.length).map((a) => `Array ${a.name} (${a.level}) is missing device(s) for role(s) ${a.missingRoles.join(', ')}`),
  ].join('\n\n');
  return { data: { devices, lvm, md }, text };
};
