// The messages between the backend and an isolated plugin's process (child_process IPC, advanced serialisation).
// Only calls, answers, progress and logs cross it; bulk data goes through file descriptors or pipes.
import type { CommandInfo, PluginInfo, ProgressUpdate, ProviderInfo, ShadowErrorJson, TaskTypeInfo } from '../../../sdk/index.js';

/** A RunContext as it crosses: the signal becomes `cancel` messages, progress and logs come back as messages. */
export interface RunMarker {
  readonly __run: true;
  runId?: number;
  scheduleId?: string | null;
  dueAt?: string;
  canConfirm: boolean;
}

export interface ActivateMessage {
  t: 'activate';
  pluginId: string;
  main: string;
  pluginPath: string;
  storagePath: string;
  stateDir: string;
  /** Where `@shadowdisk/sdk` resolves in the child: the host's compiled sdk/. */
  sdkDir: string;
  /** The manifest opts in to @shadowdisk/sdk/unstable. */
  unstableApi: boolean;
  settings: Record<string, unknown>;
  commands: CommandInfo[];
  plugins: PluginInfo[];
  taskTypes: TaskTypeInfo[];
  providers: Record<string, ProviderInfo[]>;
}

export type ParentMessage =
  | ActivateMessage
  | { t: 'call'; callId: number; point: string; id: string; method: string | null; args: unknown[] }
  | { t: 'cancel'; callId: number }
  | { t: 'response'; reqId: number; value?: unknown; error?: ShadowErrorJson };

export type ChildMessage =
  | ({ t: 'register'; point: string; id: string } & ImplementationShape)
  | { t: 'unregister'; point: string; id: string }
  /** A tap on a host hook (`scheduler.beforeRun`...): the backend taps it under the plugin's name and calls back `hooks:<tapId>`. */
  | { t: 'tap'; hook: string; tapId: string }
  | { t: 'untap'; tapId: string }
  | { t: 'activated' }
  | { t: 'activate-failed'; error: ShadowErrorJson }
  | { t: 'result'; callId: number; value: unknown }
  | { t: 'error'; callId: number; error: ShadowErrorJson }
  | { t: 'progress'; callId: number; update: ProgressUpdate }
  | { t: 'log'; callId: number | null; level: 'info' | 'warn' | 'error'; message: string }
  | { t: 'request'; reqId: number; method: RequestMethod; args: unknown[] };

/** What the plugin asks the backend: run a command, ask the user, or use another plugin's provider (describe, invoke). */
export type RequestMethod = 'executeCommand' | 'confirm' | 'describe' | 'invoke';

/** How another plugin's implementation looks from here: a function, or an object's methods and plain fields. */
export interface ImplementationShape {
  methods: string[];
  data: Record<string, unknown>;
  callable: boolean;
}

export function isRunMarker(value: unknown): value is RunMarker {
  return typeof value === 'object' && value !== null && (value as { __run?: unknown }).__run === true;
}

/** An implementation as the other side will proxy it. */
export function shapeOf(implementation: unknown): ImplementationShape {
  if (typeof implementation === 'function') return { callable: true, methods: [], data: {} };
  const object = (implementation ?? {}) as Record<string, unknown>;
  const methods = new Set<string>();
  for (let o: object | null = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor' && typeof object[name] === 'function') methods.add(name);
  }
  return { callable: false, methods: [...methods], data: Object.fromEntries(Object.entries(object).filter(([, v]) => typeof v !== 'function')) };
}
