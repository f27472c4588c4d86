// What a disk says about itself beyond its size: firmware, TRIM (discard) limits, alignment, I/O hints from /sys, and
// a SMART summary from smartmontools. "Not available" is a state with a reason (loop devices and virtio disks have no
// SMART), never an error.
import { runTool } from '../../sdk/node.js';
import { readSysNumber, readSysText } from './sysfs.js';

export type SmartSummary =
  | { state: 'available'; passed: boolean | null; temperatureC: number | null; powerOnHours: number | null; reallocatedSectors: number | null; pendingSectors: number | null; offlineUncorrectable: number | null; mediaErrors: number | null; percentageUsed: number | null; tool: string }
  | { state: 'unavailable'; reason: string };

export interface DiskProperties {
  firmware: string | null;
  /** BLKDISCARD support as the queue reports it: granularity 0 means no discards (no TRIM). */
  discard: { supported: boolean; granularityBytes: number; maxBytes: number };
  /** How far the first logical sector is from the start of a physical sector (non-zero on misaligned 512e setups). */
  alignmentOffsetBytes: number;
  minimumIoBytes: number | null;
  optimalIoBytes: number | null;
  smart: SmartSummary;
}

interface SmartctlJson {
  smartctl?: { exit_status?: number; messages?: { string: string; severity?: string }[] };
  smart_support?: { available?: boolean; enabled?: boolean };
  smart_status?: { passed?: boolean };
  temperature?: { current?: number };
  power_on_time?: { hours?: number };
  ata_smart_attributes?: { table?: { id: number; raw?: { value?: number } }[] };
  nvme_smart_health_information_log?: { media_errors?: number; percentage_used?: number };
}

/** A SMART summary from `smartctl --json -i -H -A`; smartctl's own words as the reason when it cannot read one. */
export async function smartSummary(path: string): Promise<SmartSummary> {
  let stdout: string;
  try {
    ({ stdout } = await runTool('smartctl', ['--json=c', '-i', '-H', '-A', path], { okCodes: Array.from({ length: 256 }, (_, i) => i), signal: AbortSignal.timeout(15_000) }));
  } catch (error) {
    return { state: 'unavailable', reason: (error as Error).message };
  }
  let report: SmartctlJson;
  try {
    report = JSON.parse(stdout) as SmartctlJson;
  } catch {
    return { state: 'unavailable', reason: `smartctl printed no JSON for ${path}` };
  }
  const exit = report.smartctl?.exit_status ?? 0;
  const messages = (report.smartctl?.messages ?? []).map((m) => m.string).join('; ');
  // Bits 0 and 1: bad command line or the device could not be opened / identified.
  if (exit & 0b11) return { state: 'unavailable', reason: messages || `smartctl could not open ${path} (exit ${exit})` };
  if (report.smart_support?.available === false) return { state: 'unavailable', reason: `${path} reports no SMART support` };
  if (report.smart_support?.enabled === false) return { state: 'unavailable', reason: `SMART is disabled on ${path} (smartctl -s on enables it)` };
  const attribute = (id: number) => report.ata_smart_attributes?.table?.find((a) => a.id === id)?.raw?.value ?? null;
  return {
    state: 'available', passed: report.smart_status?.passed ?? null, temperatureC: report.temperature?.current ?? null, powerOnHours: report.power_on_time?.hours ?? null,
    reallocatedSectors: attribute(5), pendingSectors: attribute(197), offlineUncorrectable: attribute(198),
    mediaErrors: report.nvme_smart_health_information_log?.media_errors ?? null, percentageUsed: report.nvme_smart_health_information_log?.percentage_used ?? null,
    tool: `smartctl --json -i -H -A ${path}`,
  };
}

/** Properties of /sys/block/`name`; SMART only for devices backed by hardware (a loop device has no `device` link). */
export async function diskProperties(name: string, path: string): Promise<DiskProperties> {
  const sys = `/sys/block/${name}`;
  const granularityBytes = (await readSysNumber(`${sys}/queue/discard_granularity`)) ?? 0;
  const hardware = (await readSysText(`${sys}/device/uevent`)) !== undefined;
  const kind = name.replace(/\d+$/, '');
  return {
    firmware: (await readSysText(`${sys}/device/firmware_rev`)) || (await readSysText(`${sys}/device/rev`)) || null,
    discard: { supported: granularityBytes > 0, granularityBytes, maxBytes: (await readSysNumber(`${sys}/queue/discard_max_bytes`)) ?? 0 },
    alignmentOffsetBytes: (await readSysNumber(`${sys}/alignment_offset`)) ?? 0,
    minimumIoBytes: (await readSysNumber(`${sys}/queue/minimum_io_size`)) ?? null,
    optimalIoBytes: (await readSysNumber(`${sys}/queue/optimal_io_size`)) ?? null,
    smart: hardware ? await smartSummary(path) : { state: 'unavailable', reason: `${path} is a virtual ${kind} device without SMART` },
  };
}

/** Image files are not devices: nothing to ask. */
export const IMAGE_FILE_PROPERTIES: Readonly<DiskProperties> = Object.freeze<DiskProperties>({
  firmware: null, discard: { supported: false, granularityBytes: 0, maxBytes: 0 }, alignmentOffsetBytes: 0, minimumIoBytes: null, optimalIoBytes: null,
  smart: { state: 'unavailable', reason: 'an image file has no SMART' },
});
