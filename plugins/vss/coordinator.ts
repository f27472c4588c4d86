// The shadow-copy coordinator: takes a set of volumes to one instant through VSS's phases (identify, prepare-backup,
// prepare-snapshot, freeze, flush-and-hold + commit, release, thaw, post-snapshot, backup-complete) as tapable hooks.
// Any failure, timeout or veto aborts the whole set: writers abort, filesystems thaw, partial snapshots are removed.
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AsyncSeriesBailHook, AsyncSeriesHook } from 'tapable';
import { guardHook } from '../../core/common/index.js';
import { ShadowError, type Logger, type ShadowVolume, type ShadowWriter, type ShadowWriterContext, type SnapshotProvider, type VetoResult, type WriterMetadata } from '../../sdk/index.js';
import { flushAndHold, type HoldTimings } from './flush-and-hold.js';
import { FreezerPool } from './freezer-pool.js';
import { componentsOutsideSet } from './writer-components.js';
import type { ShadowSetRecord, ShadowSets } from './shadow-sets.js';
import { ThawWatchdog } from './watchdog-client.js';

export interface ParticipatingWriter {
  /** The writer's contribution id. */
  id: string;
  pluginId: string;
  writer: ShadowWriter;
  options: Record<string, string>;
}

export interface PlannedVolume {
  volume: ShadowVolume;
  providerId: string;
  provider: SnapshotProvider;
}

export interface CoordinatorOptions {
  /** Writers' freeze to thaw, at most (VSS: 60 s). */
  freezeWindowMs: number;
  /** First FIFREEZE to last FITHAW, at most (VSS: 10 s). */
  holdWindowMs: number;
  /** Every other writer phase, per writer. */
  phaseTimeoutMs: number;
  log: Logger;
}

/** What each hook's taps see. */
export interface ShadowSetRun {
  readonly setId: string;
  readonly volumes: readonly ShadowVolume[];
  /** Writer id to the components it reported in identify. */
  readonly metadata: Map<string, WriterMetadata>;
}

type Run = [ShadowSetRun];
export interface CoordinatorHooks {
  readonly identify: AsyncSeriesHook<Run>;
  readonly prepareBackup: AsyncSeriesBailHook<Run, VetoResult>;
  readonly prepareSnapshot: AsyncSeriesBailHook<Run, VetoResult>;
  readonly freeze: AsyncSeriesBailHook<Run, VetoResult>;
  readonly thaw: AsyncSeriesHook<Run>;
  readonly postSnapshot: AsyncSeriesHook<Run>;
  readonly backupComplete: AsyncSeriesHook<Run>;
  readonly abort: AsyncSeriesHook<[ShadowSetRun, ShadowError]>;
}

type Phase = 'identify' | 'prepare-backup' | 'prepare-snapshot' | 'plan' | 'prepare-commit' | 'freeze' | 'flush-and-hold' | 'thaw' | 'expose' | 'post-snapshot' | 'backup' | 'backup-complete';

export class ShadowCoordinator {
  private freezeDeadline = 0;
  /** The writer whose tap runs now, to name it in a veto. */
  private current: string | undefined;
  readonly hooks: CoordinatorHooks;

  constructor(private readonly sets: ShadowSets, private readonly options: CoordinatorOptions) {
    const phaseMs = () => options.phaseTimeoutMs;
    const guard = <H>(hook: H, name: string, timeoutMs: () => number = phaseMs): H => guardHook(hook, { hookName: `shadowCoordinator.${name}`, timeoutMs });
    this.hooks = Object.freeze({
      identify: guard(new AsyncSeriesHook<Run>(['run']), 'identify'),
      prepareBackup: guard(new AsyncSeriesBailHook<Run, VetoResult>(['run']), 'prepareBackup'),
      prepareSnapshot: guard(new AsyncSeriesBailHook<Run, VetoResult>(['run']), 'prepareSnapshot'),
      freeze: guard(new AsyncSeriesBailHook<Run, VetoResult>(['run']), 'freeze', () => Math.max(1, this.freezeDeadline - performance.now())),
      thaw: guard(new AsyncSeriesHook<Run>(['run']), 'thaw'),
      postSnapshot: guard(new AsyncSeriesHook<Run>(['run']), 'postSnapshot'),
      backupComplete: guard(new AsyncSeriesHook<Run>(['run']), 'backupComplete'),
      abort: guard(new AsyncSeriesHook<[ShadowSetRun, ShadowError]>(['run', 'error']), 'abort'),
    });
  }

  /** The set being created, for the writers' contexts. */
  private active: { setId: string; volumes: readonly ShadowVolume[]; folder: string } | undefined;

  /** What a writer's call gets: its options, the set, a signal that fires when its window ends, a place for files. */
  private context(w: ParticipatingWriter, windowMs: number): ShadowWriterContext {
    const active = this.active!;
    const log = this.options.log;
    return {
      setId: active.setId,
      volumes: active.volumes,
      options: w.options,
      signal: AbortSignal.timeout(Math.max(1, Math.round(windowMs))),
      log: { info: (m) => log.info(`${w.id}: ${m}`), warn: (m) => log.warn(`${w.id}: ${m}`), error: (m) => log.error(`${w.id}: ${m}`) },
      keepFile: async (name, content) => {
        if (name !== basename(name) || name.startsWith('.')) throw new ShadowError('INVALID_ARGUMENT', `Writer '${w.id}' keeps a file named '${name}'; expected a plain file name`);
        await writeFile(join(active.folder, name), content, { mode: 0o600 });
        this.keptFiles.set(w.id, [...(this.keptFiles.get(w.id) ?? []), name]);
      },
    };
  }

  /** Taps a writer onto every phase, named after its plugin. */
  enlist(w: ParticipatingWriter): void {
    const context = (windowMs: number) => this.context(w, windowMs);
    const name = { name: w.pluginId };
    const call = async <R>(phase: string, windowMs: number, fn: (ctx: ShadowWriterContext) => Promise<R>): Promise<R> => {
      this.current = w.id;
      try {
        return await fn(context(windowMs));
      } catch (error) {
        const e = ShadowError.from(error, 'IO_ERROR');
        throw new ShadowError(e.code, `Writer '${w.id}' failed at ${phase}: ${e.message}`, { cause: error, details: { writer: w.id, phase } });
      }
    };
    const phaseMs = this.options.phaseTimeoutMs;
    this.hooks.identify.tapPromise(name, async (run) => void run.metadata.set(w.id, await call('identify', phaseMs, (c) => w.writer.identify(c))));
    this.hooks.prepareBackup.tapPromise(name, () => call('prepare-backup', phaseMs, async (c) => w.writer.prepareBackup?.(c)));
    this.hooks.prepareSnapshot.tapPromise(name, () => call('prepare-snapshot', phaseMs, async (c) => w.writer.prepareSnapshot?.(c)));
    this.hooks.freeze.tapPromise(name, () => call('freeze', Math.max(1, this.freezeDeadline - performance.now()), (c) => w.writer.freeze(c)));
    this.hooks.thaw.tapPromise(name, () => call('thaw', phaseMs, (c) => w.writer.thaw(c)));
    this.hooks.postSnapshot.tapPromise(name, () => call('post-snapshot', phaseMs, async (c) => w.writer.postSnapshot?.(c)));
    this.hooks.backupComplete.tapPromise(name, () => call('backup-complete', phaseMs, async (c) => w.writer.backupComplete?.(c)));
    this.hooks.abort.tapPromise(name, async () => {
      await w.writer.abort(context(phaseMs)).catch((error: unknown) => this.options.log.warn(`Writer '${w.id}' failed to abort: ${(error as Error).message}`));
    });
  }

  private veto(result: VetoResult, phase: Phase): void {
    if (typeof result === 'string') {
      throw new ShadowError('WRITER_VETOED', `Writer '${this.current ?? 'unknown'}' vetoed the shadow set at ${phase}: ${result}`, { details: { writer: this.current, phase, reason: result } });
    }
  }

  /**
   * Runs every phase for `planned` (writers already enlisted) and returns the complete, persisted set. `backup` runs
   * after post-snapshot with the exposed set; writers hear backup-complete only when it succeeds (else they abort).
   */
  async create(planned: readonly PlannedVolume[], backup?: (set: ShadowSetRecord) => Promise<void>): Promise<ShadowSetRecord> {
    const started = performance.now();
    const id = this.sets.newId();
    const run: ShadowSetRun = { setId: id, volumes: planned.map((p) => p.volume), metadata: new Map() };
    const record: ShadowSetRecord = { id, state: 'creating', createdAt: new Date().toISOString(), volumes: [], writers: [], folder: this.sets.folderOf(id) };
    this.active = { setId: id, volumes: run.volumes, folder: record.folder };
    let phase: Phase = 'identify';
    let watchdog: ThawWatchdog | undefined;
    let freezers: FreezerPool | undefined;
    try {
      await this.hooks.identify.promise(run);
      const outside = componentsOutsideSet(run.metadata, run.volumes);
      if (outside.length > 0) throw new ShadowError('INVALID_ARGUMENT', `Writer components lie outside the set: ${outside.join('; ')}. Add their volumes to the set`);
      phase = 'prepare-backup';
      this.veto(await this.hooks.prepareBackup.promise(run), phase);
      phase = 'prepare-snapshot';
      this.veto(await this.hooks.prepareSnapshot.promise(run), phase);
      phase = 'plan';
      for (const [index, p] of planned.entries()) {
        const { name, device, mountpoint, fsType } = p.volume;
        record.volumes.push({ name, device, mountpoint, fsType, provider: p.providerId, snapshot: await p.provider.plan(p.volume, id, index, record.folder) });
        this.sets.save(record);
      }
      const mountpoints = freezableMountpoints(planned);
      watchdog = await ThawWatchdog.start();
      freezers = await FreezerPool.start(mountpoints);
      // The heavy part of each snapshot (a whole clone) before the writers freeze: the hold only catches up.
      phase = 'prepare-commit';
      await syncAll(freezers);
      await Promise.all(planned.map((p, index) => p.provider.prepareCommit?.(p.volume, record.volumes[index]!.snapshot)));
      phase = 'freeze';
      const freezeStarted = performance.now();
      this.freezeDeadline = freezeStarted + this.options.freezeWindowMs;
      this.veto(await this.hooks.freeze.promise(run), phase);
      phase = 'flush-and-hold';
      // What the writers' freeze stopped is caught up outside the hold, then everything written so far goes out before
      // it, in parallel, so the FIFREEZEs find little left to flush and the commits little left to copy.
      await Promise.all(planned.map((p, index) => p.provider.settle?.(p.volume, record.volumes[index]!.snapshot)));
      await syncAll(freezers);
      const timings: HoldTimings = { holdMs: 0 };
      const holdWindowMs = Math.min(this.options.holdWindowMs, Math.max(1, this.freezeDeadline - performance.now()));
      const committed = await flushAndHold(freezers, mountpoints, watchdog, holdWindowMs, async () => {
        return Promise.all(planned.map((p, index) => p.provider.commit(p.volume, record.volumes[index]!.snapshot)));
      }, timings);
      committed.forEach((snapshot, index) => (record.volumes[index]!.snapshot = snapshot));
      this.sets.save(record);
      phase = 'thaw';
      await this.hooks.thaw.promise(run);
      const writersFreezeMs = performance.now() - freezeStarted;
      phase = 'expose';
      for (const [index, p] of planned.entries()) {
        const volume = record.volumes[index]!;
        volume.exposed = await p.provider.expose(volume.snapshot, p.volume);
        this.sets.save(record);
      }
      phase = 'post-snapshot';
      await this.hooks.postSnapshot.promise(run);
      record.writers = [...run.metadata].map(([writer, meta]) => ({ id: writer, components: meta.components, files: this.keptFiles.get(writer) ?? [] }));
      if (backup !== undefined) {
        phase = 'backup';
        await backup(record);
      }
      phase = 'backup-complete';
      await this.hooks.backupComplete.promise(run);
      record.state = 'complete';
      record.timings = {
        writersFreezeMs: round(writersFreezeMs), flushAndHoldMs: round(timings.holdMs), totalMs: round(performance.now() - started),
        holdParts: { freezeMs: round(timings.freezeMs ?? 0), commitMs: round(timings.commitMs ?? 0), thawMs: round(timings.thawMs ?? 0) },
      };
      this.sets.save(record);
      return record;
    } catch (error) {
      const cause = ShadowError.from(error);
      const failure = new ShadowError(cause.code, `Shadow set aborted at ${phase}: ${cause.message}`, { cause: error, details: { ...cause.details, phase, setId: id } });
      await this.hooks.abort.promise(run, failure).catch((e: unknown) => this.options.log.warn(`Abort taps failed: ${(e as Error).message}`));
      for (const [index, volume] of [...record.volumes.entries()].reverse()) {
        await planned[index]!.provider.remove(volume.snapshot, volume.exposed).catch((e: unknown) => this.options.log.error(`Cannot remove the partial snapshot of ${volume.name}: ${(e as Error).message}`));
      }
      this.sets.remove(id);
      throw failure;
    } finally {
      await freezers?.[Symbol.asyncDispose]();
      await watchdog?.[Symbol.asyncDispose]();
    }
  }

  private readonly keptFiles = new Map<string, string[]>();
}

/** One mountpoint per filesystem (several volumes may share a superblock), skipping providers that commit unfrozen. */
function freezableMountpoints(planned: readonly PlannedVolume[]): string[] {
  const byFilesystem = new Map<number, string>();
  for (const p of planned) {
    if (p.volume.mountpoint === undefined || p.provider.commitsUnfrozen === true) continue;
    const dev = statSync(p.volume.mountpoint).dev;
    if (!byFilesystem.has(dev)) byFilesystem.set(dev, p.volume.mountpoint);
  }
  return [...byFilesystem.values()];
}

/** syncfs of every filesystem at once, by their freeze workers (no process to start, right before the freeze). */
async function syncAll(freezers: FreezerPool): Promise<void> {
  const [failure] = (await freezers.run('sync')).failed;
  if (failure !== undefined) throw new ShadowError('IO_ERROR', `Cannot sync '${failure.mountpoint}': ${failure.message}`);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
