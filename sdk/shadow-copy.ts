// Shadow copies (VSS-style): what a `writers` contribution (an application that quiesces for a snapshot set) and a
// `snapshotProviders` contribution (a way to cut one volume) implement. The coordinator lives in plugins/vss.
import type { Logger } from './job.js';
import type { VetoResult } from './plugin-context.js';

/** One volume of a shadow set, as the coordinator resolved it. */
export interface ShadowVolume {
  /** What the user named: a device, a mountpoint or an attached device. */
  readonly name: string;
  /** The block device holding the filesystem (undefined for a btrfs subvolume named by its path). */
  readonly device: string | undefined;
  /** Where the filesystem is mounted (the first mountpoint), if it is. */
  readonly mountpoint: string | undefined;
  /** The filesystem type as the mount table names it (`ext4`, `xfs`, `btrfs`), if mounted. */
  readonly fsType: string | undefined;
}

/** A part of an application a writer quiesces, and where it lives. */
export interface WriterComponent {
  name: string;
  /** Absolute paths of the component's files or folders. */
  paths: string[];
}

export interface WriterMetadata {
  components: WriterComponent[];
}

/** What each writer call gets: the set, the writer's options from the command line, a place for files kept with the set. */
export interface ShadowWriterContext {
  readonly setId: string;
  readonly volumes: readonly ShadowVolume[];
  /** `--writer NAME:key=value,key=value` options, e.g. `{ host: '/run/postgresql', port: '5432' }`. */
  readonly options: Readonly<Record<string, string>>;
  /** Aborted when the phase's window runs out or the set is aborted. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Stores a file with the snapshot set (e.g. PostgreSQL's backup_label); `name` is a plain file name. */
  keepFile(name: string, content: string | Uint8Array): Promise<void>;
}

/**
 * An application writer. Every method runs under the coordinator's window for its phase; returning a string from a
 * veto point aborts the whole set with that reason. `thaw` and `abort` must not throw for a writer that never froze.
 */
export interface ShadowWriter {
  /** The components this writer would quiesce; throws when the application is not reachable with these options. */
  identify(ctx: ShadowWriterContext): Promise<WriterMetadata>;
  prepareBackup?(ctx: ShadowWriterContext): Promise<VetoResult>;
  prepareSnapshot?(ctx: ShadowWriterContext): Promise<VetoResult>;
  /** Quiesce the application; the filesystems are frozen right after every writer returns. */
  freeze(ctx: ShadowWriterContext): Promise<VetoResult>;
  /** Resume the application after the snapshots are taken (filesystems thawed already). */
  thaw(ctx: ShadowWriterContext): Promise<void>;
  /** The set failed: undo whatever freeze or prepare did. */
  abort(ctx: ShadowWriterContext): Promise<void>;
  postSnapshot?(ctx: ShadowWriterContext): Promise<void>;
  backupComplete?(ctx: ShadowWriterContext): Promise<void>;
}

/** Where a provider keeps one volume's snapshot: planned before the freeze, so a crash can clean it up. */
export interface ProviderSnapshotRecord {
  /** Provider-specific fields (clone path, subvolume path, engine socket...): JSON, stored in the set's record. */
  readonly [key: string]: unknown;
}

/** A snapshot exposed for reading: a read-only block device, or a read-only folder for providers without one. */
export interface ExposedSnapshot {
  /** A read-only block device with the volume as it was (mount it, or image it). */
  device?: string;
  /** A read-only folder (btrfs subvolume snapshots have no block device of their own). */
  path?: string;
  /** A device that mounts read-only with no options, when `device` itself needs some (XFS: a log-recovered copy). */
  mountDevice?: string;
  /** The files behind `device` and `mountDevice` when they are loop devices: a loop device gone (a reboot) is re-exposed. */
  deviceFile?: string;
  mountDeviceFile?: string;
  /** Provider-specific fields needed to release the exposure. */
  readonly [key: string]: unknown;
}

export interface SnapshotProvider {
  /** Whether this provider can snapshot the volume; a reason when it cannot. Higher priority wins among those that can. */
  supports(volume: ShadowVolume): Promise<{ priority: number } | { reason: string }>;
  /** Whether the filesystem must not be frozen when commit runs (btrfs snapshots need a transaction). */
  readonly commitsUnfrozen?: boolean;
  /** Decides where the snapshot will live (no changes yet). */
  plan(volume: ShadowVolume, setId: string, index: number, storageDir: string): Promise<ProviderSnapshotRecord>;
  /**
   * Optional: before the writers freeze (each filesystem synced just before), the heavy part of the snapshot that needs
   * no hold (the reflink provider clones the whole image file here); commit then only catches up in the hold.
   */
  prepareCommit?(volume: ShadowVolume, planned: ProviderSnapshotRecord): Promise<void>;
  /**
   * Optional: after the writers froze, just before the hold: bring the prepared snapshot close to the present again
   * (the reflink provider re-clones what was written since prepareCommit), so that commit finds little left to do.
   */
  settle?(volume: ShadowVolume, planned: ProviderSnapshotRecord): Promise<void>;
  /** Takes the snapshot, while the set's filesystems are frozen: must be quick. */
  commit(volume: ShadowVolume, planned: ProviderSnapshotRecord): Promise<ProviderSnapshotRecord>;
  /** After thaw: makes the snapshot readable. */
  expose(snapshot: ProviderSnapshotRecord, volume: ShadowVolume): Promise<ExposedSnapshot>;
  /** Releases the exposure (if any) and removes the snapshot; must succeed for a planned snapshot never committed. */
  remove(snapshot: ProviderSnapshotRecord, exposed: ExposedSnapshot | undefined): Promise<void>;
}
