// `shadow create|list|mount|unmount|delete`: shadow-copy sets from the command line.
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandArgs, CommandResult, ExposedSnapshot, PluginContext, RunContext } from '../../sdk/index.js';
import { renderTable, ShadowError } from '../../sdk/index.js';
import { runTool } from '../../sdk/node.js';
import { ShadowCoordinator, type PlannedVolume } from './coordinator.js';
import { planVolumes, resolveWriters } from './set-planning.js';
import { ShadowSets, type ShadowSetRecord, type ShadowSetVolume } from './shadow-sets.js';
import { loopBacks } from './providers/loop-exposure.js';
import { resolveVolume } from './volumes.js';

export function stringOption(args: CommandArgs, name: string): string | undefined {
  const value = args.options[name];
  if (typeof value === 'boolean') throw new ShadowError('INVALID_ARGUMENT', `--${name} needs a value`);
  return value;
}

function msOption(args: CommandArgs, name: string, fallback: number): number {
  const value = stringOption(args, name);
  if (value === undefined) return fallback;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1) throw new ShadowError('INVALID_ARGUMENT', `--${name} must be a whole number of milliseconds, got '${value}'`);
  return ms;
}

function describeVolume(v: ShadowSetVolume): string {
  return v.exposed?.device ?? v.exposed?.path ?? '(not exposed)';
}

/** The coordinator for a set of the named volumes, with its providers chosen and its writers enlisted. */
export async function prepareSet(ctx: PluginContext, sets: ShadowSets, names: readonly string[], args: CommandArgs, run: RunContext): Promise<{ coordinator: ShadowCoordinator; planned: PlannedVolume[] }> {
  if (names.length === 0) throw new ShadowError('INVALID_ARGUMENT', 'Name the volumes of the set (block devices or mountpoints)');
  const planned = await planVolumes(ctx, names.map(resolveVolume), stringOption(args, 'provider'));
  const coordinator = new ShadowCoordinator(sets, {
    freezeWindowMs: msOption(args, 'freeze-window-ms', 60_000),
    holdWindowMs: msOption(args, 'hold-window-ms', 10_000),
    phaseTimeoutMs: msOption(args, 'phase-timeout-ms', 60_000),
    log: run.log,
  });
  for (const writer of await resolveWriters(ctx, stringOption(args, 'writer'))) coordinator.enlist(writer);
  return { coordinator, planned };
}

/** Removes every snapshot of a set (newest volume first) through its provider, then the set's record and folder. */
export async function deleteSet(ctx: PluginContext, sets: ShadowSets, record: ShadowSetRecord): Promise<void> {
  for (const volume of [...record.volumes].reverse()) {
    const provider = await ctx.providers.get('snapshotProviders', volume.provider);
    await provider.remove(volume.snapshot, volume.exposed);
  }
  sets.remove(record.id);
}

export function shadowCommands(ctx: PluginContext) {
  const sets = new ShadowSets(ctx.storagePath);

  async function create(args: CommandArgs, run: RunContext): Promise<CommandResult> {
    const { coordinator, planned } = await prepareSet(ctx, sets, args.positionals, args, run);
    const record = await coordinator.create(planned);
    const rows = record.volumes.map((v) => [v.name, v.provider.replace(/^.*\./, ''), describeVolume(v), v.exposed?.mountDevice ?? '']);
    return {
      data: record,
      text: `Shadow set ${record.id}: flush-and-hold ${record.timings?.flushAndHoldMs} ms, writers frozen ${record.timings?.writersFreezeMs} ms\n${renderTable(['Volume', 'Provider', 'Snapshot', 'Mountable copy'], rows)}`,
    };
  }

  function list(): CommandResult {
    const all = sets.list();
    const text = all.length === 0 ? 'No shadow sets' : renderTable(['Set', 'State', 'Created', 'Volumes', 'Writers'],
      all.map((s) => [s.id, s.state, s.createdAt, s.volumes.map((v) => `${v.name}=${describeVolume(v)}${v.mountedOn ? ` on ${v.mountedOn}` : ''}`).join(', '), s.writers.map((w) => w.id).join(', ')]));
    return { data: { sets: all }, text };
  }

  /** The volumes of a set a command acts on: all, or the one named by its name, device or index. */
  function selected(record: ShadowSetRecord, which: string | undefined): ShadowSetVolume[] {
    if (which === undefined) return record.volumes;
    const found = record.volumes.filter((v, i) => v.name === which || v.device === which || v.mountpoint === which || String(i) === which);
    if (found.length === 0) throw new ShadowError('NOT_FOUND', `Set ${record.id} has no volume '${which}'; its volumes: ${record.volumes.map((v) => v.name).join(', ')}`);
    return found;
  }

  /** The volume's exposure, made again when its loop devices are gone (after a reboot the clones stay, the devices do not). */
  async function exposedNow(record: ShadowSetRecord, volume: ShadowSetVolume): Promise<ExposedSnapshot> {
    const exposed = volume.exposed ?? {};
    const gone = (device: string | undefined, file: string | undefined) => device !== undefined && file !== undefined && !loopBacks(device, file);
    if (!gone(exposed.device, exposed.deviceFile) && !gone(exposed.mountDevice, exposed.mountDeviceFile)) return exposed;
    const provider = await ctx.providers.get('snapshotProviders', volume.provider);
    volume.exposed = await provider.expose(volume.snapshot, { name: volume.name, device: volume.device, mountpoint: volume.mountpoint, fsType: volume.fsType });
    sets.save(record);
    return volume.exposed;
  }

  async function mount(args: CommandArgs): Promise<CommandResult> {
    const record = sets.get(args.positionals[0] ?? '');
    if (record.state !== 'complete') throw new ShadowError('INVALID_ARGUMENT', `Set ${record.id} is ${record.state}: it was interrupted; delete it`);
    const mounted: { volume: string; mountpoint: string }[] = [];
    const chosen = selected(record, args.positionals[1]);
    const base = stringOption(args, 'target') ?? join(ctx.storagePath, 'mounts', record.id);
    for (const volume of chosen) {
      if (volume.mountedOn !== undefined) continue;
      const target = stringOption(args, 'target') !== undefined && chosen.length === 1 ? base : join(base, String(record.volumes.indexOf(volume)));
      mkdirSync(target, { recursive: true });
      const exposed = await exposedNow(record, volume);
      if (exposed.path !== undefined) await runTool('mount', ['--bind', '-o', 'ro', exposed.path, target]);
      else if (exposed.device !== undefined) await runTool('mount', ['-o', 'ro', exposed.mountDevice ?? exposed.device, target]);
      else throw new ShadowError('NOT_FOUND', `The snapshot of ${volume.name} in set ${record.id} is not exposed`);
      volume.mountedOn = target;
      sets.save(record);
      mounted.push({ volume: volume.name, mountpoint: target });
    }
    return { data: { set: record.id, mounted }, text: mounted.map((m) => `${m.volume} mounted read-only on ${m.mountpoint}`).join('\n') || 'Already mounted' };
  }

  async function unmountVolumes(record: ShadowSetRecord, volumes: ShadowSetVolume[]): Promise<string[]> {
    const done: string[] = [];
    for (const volume of volumes) {
      if (volume.mountedOn === undefined) continue;
      await runTool('umount', [volume.mountedOn]).catch((error: unknown) => {
        if (!/not mounted/.test((error as Error).message)) throw error;
      });
      rmdirSync(volume.mountedOn);
      done.push(volume.mountedOn);
      delete volume.mountedOn;
      sets.save(record);
    }
    return done;
  }

  async function unmount(args: CommandArgs): Promise<CommandResult> {
    const record = sets.get(args.positionals[0] ?? '');
    const done = await unmountVolumes(record, selected(record, args.positionals[1]));
    return { data: { set: record.id, unmounted: done }, text: done.length ? `Unmounted ${done.join(', ')}` : 'Nothing was mounted' };
  }

  async function remove(args: CommandArgs): Promise<CommandResult> {
    const record = sets.get(args.positionals[0] ?? '');
    const mounted = record.volumes.filter((v) => v.mountedOn !== undefined);
    if (mounted.length > 0 && args.options['force'] !== true) {
      throw new ShadowError('TARGET_BUSY', `Set ${record.id} is mounted on ${mounted.map((v) => v.mountedOn).join(', ')}; unmount it first ('shadow unmount ${record.id}') or pass --force`);
    }
    await unmountVolumes(record, mounted);
    await deleteSet(ctx, sets, record);
    return { data: { deleted: record.id }, text: `Shadow set ${record.id} deleted` };
  }

  return { create, list, mount, unmount, remove, sets };
}
