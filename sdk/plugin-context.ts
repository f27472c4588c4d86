// The API a plugin sees: activate(ctx), registration functions returning Disposables, host introspection, hooks it may tap.
import type { Disposable } from './disposable.js';
import type { RunContext, Logger } from './job.js';
import type { ShadowWriter, SnapshotProvider } from './shadow-copy.js';
import type { CommandContribution, TaskTypeContribution } from './manifest.js';

export interface CommandArgs {
  /** Words after the command's CLI verb. */
  readonly positionals: readonly string[];
  /** `--name value` and `--flag` options. */
  readonly options: Readonly<Record<string, string | boolean>>;
}

/** A command's answer: `data` is what `--json` prints; `text` is the human rendering. */
export interface CommandResult {
  data: unknown;
  text?: string;
  /**
   * The command wrote its own bytes to standard output (an image to '-', a file's contents): the CLI then puts the
   * result (text or --json) on standard error instead, so the stream stays exactly those bytes.
   */
  ownsStdout?: boolean;
}

export type CommandHandler = (args: CommandArgs, run: RunContext) => CommandResult | Promise<CommandResult>;

/** A registration of an implementation for a declared provider (filesystem handler, snapshot provider, ...). */
export interface ProviderImplementations {
  commands: CommandHandler;
  taskTypes: TaskRunner;
  filesystems: FilesystemHandler;
  snapshotProviders: SnapshotProvider;
  writers: ShadowWriter;
  imageFormats: object;
  repositories: object;
}
export type ProviderPoint = Exclude<keyof ProviderImplementations, 'commands'>;

/** Result of a read-only filesystem check. */
export interface FilesystemCheck {
  clean: boolean;
  /** The command line that judged it, e.g. `e2fsck -fn /dev/loop3p1`. */
  tool: string;
  exitCode: number;
  output: string;
}

/** What a `filesystems` contribution implements; the backup plugin adds used-block maps later. */
export interface FilesystemHandler {
  /** Filesystem types handled, as blkid names them (`ext4`, `vfat`, `swap`). */
  readonly types: readonly string[];
  /** Longest label the filesystem stores, in bytes (UTF-8) or characters where the tool counts those. */
  labelLimit(type: string): number;
  mkfs(device: string, options: { type: string; label?: string }, run: RunContext): Promise<void>;
  /** Never modifies the filesystem. */
  check(device: string, type: string, run: RunContext): Promise<FilesystemCheck>;
  setLabel(device: string, type: string, label: string, run: RunContext): Promise<void>;
}

/** What a task runner gets besides the RunContext: which run this is and when it was due on the scheduler's clock. */
export interface TaskRunContext extends RunContext {
  readonly runId: number;
  /** null for a task run that belongs to no schedule. */
  readonly scheduleId: string | null;
  /** The instant the run was due (the scheduler's clock, which tests inject); name outputs after it, not the wall clock. */
  readonly dueAt: Date;
}

/** A declared provider: its id, title and the plugin that contributes it. */
export interface ProviderInfo {
  id: string;
  title: string;
  pluginId: string;
}

export type TaskRunner = (params: unknown, run: TaskRunContext) => Promise<unknown>;

export interface TaskTypeInfo extends TaskTypeContribution {
  pluginId: string;
}

export type ScheduledRunStatus = 'running' | 'succeeded' | 'failed' | 'timed-out' | 'skipped' | 'vetoed' | 'interrupted';

/** A run as the scheduler's beforeRun and afterRun taps see it. */
export interface ScheduledRunInfo {
  runId: number;
  scheduleId: string | null;
  taskType: string;
  params: unknown;
  trigger: 'schedule' | 'catch-up' | 'manual';
  dueAt: string;
}

export interface ScheduledRunOutcome {
  status: ScheduledRunStatus;
  errorCode: string | null;
  bytes: number;
}

/** Taps on the scheduler: returning a string from beforeRun vetoes the run (recorded as vetoed with that reason). */
export interface SchedulerHooks {
  beforeRun: PluginHook<[run: ScheduledRunInfo], VetoResult>;
  afterRun: PluginHook<[run: ScheduledRunInfo, outcome: ScheduledRunOutcome]>;
}

export interface CommandInfo extends CommandContribution {
  pluginId: string;
}

export type PluginState = 'inactive' | 'activating' | 'active' | 'vetoed' | 'failed' | 'refused';

export interface PluginInfo {
  id: string;
  name: string;
  version: string;
  path: string;
  state: PluginState;
  /** Why the plugin is vetoed, failed or refused. */
  error?: { code: string; message: string };
  contributions: Record<string, string[]>;
}

/** A hook a plugin may tap; the tap is named after the plugin by the host. */
export interface PluginHook<Args extends unknown[], Result = void> {
  tap(fn: (...args: Args) => Result): Disposable;
  tapPromise(fn: (...args: Args) => Promise<Result>): Disposable;
}

/** Returning a string from beforeActivate vetoes the activation, with that string as the reason. */
export type VetoResult = string | undefined | void;

export interface PluginHostHooks {
  beforeActivate: PluginHook<[plugin: PluginInfo], VetoResult>;
  activated: PluginHook<[plugin: PluginInfo]>;
  crashed: PluginHook<[plugin: PluginInfo, error: Error]>;
}

export interface PluginContext {
  readonly pluginId: string;
  /** The plugin's own folder. */
  readonly pluginPath: string;
  /** A folder under the state directory, private to this plugin. */
  readonly storagePath: string;
  readonly log: Logger;
  /** Disposed when the plugin is deactivated. */
  readonly subscriptions: { push(...disposables: Disposable[]): void };
  readonly commands: {
    registerCommand(id: string, handler: CommandHandler): Disposable;
    executeCommand(id: string, args?: Partial<CommandArgs>, run?: Partial<RunContext>): Promise<CommandResult>;
    list(): CommandInfo[];
  };
  /** Implementations for providers the manifest declares. */
  register<P extends ProviderPoint>(point: P, id: string, implementation: ProviderImplementations[P]): Disposable;
  readonly plugins: { list(): PluginInfo[] };
  /** Other plugins' providers of a point (snapshot providers, writers...): listed, and resolved (activating their plugin). */
  readonly providers: {
    list(point: ProviderPoint): ProviderInfo[];
    get<P extends ProviderPoint>(point: P, id: string): Promise<ProviderImplementations[P]>;
  };
  readonly settings: { get<T = unknown>(key: string): T | undefined };
  readonly hooks: { readonly pluginHost: PluginHostHooks; readonly scheduler: SchedulerHooks };
  /** Task types every plugin contributes, and their runners (resolving one activates its plugin). */
  readonly taskTypes: {
    list(): TaskTypeInfo[];
    resolve(id: string): Promise<TaskRunner>;
    /** Runs the beforeRun taps; a veto names the plugin that made it. Called by the scheduler before each run. */
    beforeRun(run: ScheduledRunInfo): Promise<{ reason: string; vetoedBy: string } | undefined>;
    afterRun(run: ScheduledRunInfo, outcome: ScheduledRunOutcome): Promise<void>;
  };
  /** The state directory (default /var/lib/shadowdisk, SHADOWDISK_HOME overrides). */
  readonly stateDir: string;
}

/** What a plugin's main module exports. */
export interface PluginModule {
  activate(ctx: PluginContext): void | Promise<void>;
  deactivate?(): void | Promise<void>;
}
