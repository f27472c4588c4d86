// LVM2 physical volumes, volume groups and logical volumes as the disks themselves record them: each PV's label and
// the newest metadata text among the PVs of a group (highest seqno), without lvm2's tools or device-mapper.
import { open } from 'node:fs/promises';
import { isSection, parseLvmConfig, type ConfigSection, type ConfigValue } from './lvm-config-text.js';
import { formatLvmUuid, readMetadataText, readPvLabel, type ReadAt } from './lvm-label.js';

const SECTOR = 512;

export interface LvmPv {
  device: string;
  uuid: string;
  vgName: string | null;
  deviceSizeBytes: number;
  peStartBytes: number | null;
  peCount: number;
  peAllocCount: number;
  sizeBytes: number;
}

export interface LvmVg {
  name: string;
  uuid: string;
  seqno: number;
  extentSizeBytes: number;
  extentCount: number;
  freeCount: number;
  pvCount: number;
  lvCount: number;
  sizeBytes: number;
  freeBytes: number;
  /** PVs the metadata lists that no scanned device carries. */
  missingPvUuids: string[];
  /** Where lvm2 last saw each PV (the metadata's `device` hints): worth reading first to find the rest of the group. */
  deviceHints: string[];
}

export interface LvmLv {
  name: string;
  vgName: string;
  uuid: string;
  sizeBytes: number;
  segments: { startExtent: number; extentCount: number; type: string; stripes: { pv: string; device: string | null; startExtent: number }[] }[];
}

export interface LvmView {
  pvs: LvmPv[];
  vgs: LvmVg[];
  lvs: LvmLv[];
}

const num = (v: ConfigValue | undefined) => (typeof v === 'number' ? v : 0);
const str = (v: ConfigValue | undefined) => (typeof v === 'string' ? v : '');

async function withReader<T>(device: string, use: (read: ReadAt) => Promise<T>): Promise<T> {
  const handle = await open(device, 'r');
  try {
    return await use(async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    });
  } finally {
    await handle.close();
  }
}

interface Found {
  device: string;
  uuid: string;
  deviceSizeBytes: number;
  vg: { name: string; body: ConfigSection } | undefined;
}

async function scanDevice(device: string): Promise<Found | undefined> {
  return withReader(device, async (read) => {
    const label = await readPvLabel(read);
    if (!label) return undefined;
    let vg: Found['vg'];
    for (const area of label.metadataAreas) {
      const text = await readMetadataText(read, area);
      if (!text) continue;
      const root = parseLvmConfig(text);
      const name = Object.keys(root).find((key) => isSection(root[key]) && isSection((root[key] as ConfigSection)['physical_volumes']));
      if (name) vg = { name, body: root[name] as ConfigSection };
      break;
    }
    return { device, uuid: formatLvmUuid(label.uuid), deviceSizeBytes: label.deviceSizeBytes, vg };
  });
}

/** Reads every given device (disks and partitions); devices that are not PVs are skipped. */
export async function readLvm(devices: readonly string[]): Promise<LvmView> {
  const found = (await Promise.all(devices.map((d) => scanDevice(d).catch(() => undefined)))).filter((f): f is Found => f !== undefined);
  // One metadata per group: the highest seqno any of its PVs holds.
  const groups = new Map<string, { name: string; body: ConfigSection }>();
  for (const f of found) {
    if (!f.vg) continue;
    const id = str(f.vg.body['id']);
    const known = groups.get(id);
    if (!known || num(f.vg.body['seqno']) > num(known.body['seqno'])) groups.set(id, f.vg);
  }
  const pvs: LvmPv[] = [];
  const vgs: LvmVg[] = [];
  const lvs: LvmLv[] = [];
  const claimed = new Set<string>();
  for (const { name, body } of groups.values()) {
    const extentSizeBytes = num(body['extent_size']) * SECTOR;
    const pvSections = isSection(body['physical_volumes']) ? body['physical_volumes'] : {};
    const lvSections = isSection(body['logical_volumes']) ? body['logical_volumes'] : {};
    const deviceOf = new Map<string, string | null>();
    const allocated = new Map<string, number>();
    for (const [key, lvValue] of Object.entries(lvSections)) {
      if (!isSection(lvValue)) continue;
      const segments: LvmLv['segments'] = [];
      for (const segValue of Object.values(lvValue)) {
        if (!isSection(segValue) || segValue['start_extent'] === undefined) continue;
        const stripeList = Array.isArray(segValue['stripes']) ? segValue['stripes'] : [];
        const stripes: LvmLv['segments'][number]['stripes'] = [];
        const perStripe = num(segValue['extent_count']) / Math.max(1, num(segValue['stripe_count']) || 1);
        for (let s = 0; s + 1 < stripeList.length; s += 2) {
          const pv = str(stripeList[s]);
          stripes.push({ pv, device: null, startExtent: num(stripeList[s + 1]) });
          allocated.set(pv, (allocated.get(pv) ?? 0) + perStripe);
        }
        segments.push({ startExtent: num(segValue['start_extent']), extentCount: num(segValue['extent_count']), type: str(segValue['type']), stripes });
      }
      segments.sort((a, b) => a.startExtent - b.startExtent);
      const extents = segments.reduce((sum, s) => sum + s.extentCount, 0);
      lvs.push({ name: key, vgName: name, uuid: str(lvValue['id']), sizeBytes: extents * extentSizeBytes, segments });
    }
    const missingPvUuids: string[] = [];
    let extentCount = 0;
    let allocCount = 0;
    for (const [key, pvValue] of Object.entries(pvSections)) {
      if (!isSection(pvValue)) continue;
      const uuid = str(pvValue['id']);
      const where = found.find((f) => f.uuid === uuid);
      deviceOf.set(key, where?.device ?? null);
      const peCount = num(pvValue['pe_count']);
      const peAllocCount = allocated.get(key) ?? 0;
      extentCount += peCount;
      allocCount += peAllocCount;
      if (!where) {
        missingPvUuids.push(uuid);
        continue;
      }
      claimed.add(where.device);
      pvs.push({ device: where.device, uuid, vgName: name, deviceSizeBytes: where.deviceSizeBytes, peStartBytes: num(pvValue['pe_start']) * SECTOR, peCount, peAllocCount, sizeBytes: peCount * extentSizeBytes });
    }
    for (const lv of lvs) for (const seg of lv.segments) for (const stripe of seg.stripes) stripe.device ??= deviceOf.get(stripe.pv) ?? null;
    vgs.push({
      name, uuid: str(body['id']), seqno: num(body['seqno']), extentSizeBytes, extentCount, freeCount: extentCount - allocCount,
      pvCount: Object.values(pvSections).filter(isSection).length, lvCount: Object.values(lvSections).filter(isSection).length,
      sizeBytes: extentCount * extentSizeBytes, freeBytes: (extentCount - allocCount) * extentSizeBytes, missingPvUuids,
      deviceHints: Object.values(pvSections).filter(isSection).map((pv) => str(pv['device'])).filter(Boolean),
    });
  }
  // PVs in no group (pvcreate only): their label is all there is.
  for (const f of found) {
    if (claimed.has(f.device)) continue;
    pvs.push({ device: f.device, uuid: f.uuid, vgName: null, deviceSizeBytes: f.deviceSizeBytes, peStartBytes: null, peCount: 0, peAllocCount: 0, sizeBytes: f.deviceSizeBytes });
  }
  return { pvs, vgs, lvs };
}
