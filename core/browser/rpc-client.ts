// The browser's side of the backend API: JSON-RPC 2.0 over the token-guarded WebSocket (the cookie rides along).
// Types only from the backend (nothing of it is bundled): the job model's events and the command registry's entries.
import type { CommandInfo as RegisteredCommand } from '../../sdk/plugin-context.js';
import type { JobEvent } from '../common/job.js';

export type { ProgressEvent } from '../../sdk/job.js';
export type { JobEvent };

/** A command as commands.list answers: the registry's entry and its keybinding. */
export interface CommandInfo extends RegisteredCommand {
  keybinding: string | null;
}

export interface CommandOutcome<T = unknown> {
  jobId: string;
  data: T;
  text: string | null;
}

/** A failed call, with the backend's error code (TARGET_BUSY, INVALID_ARGUMENT...). */
export class RpcError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onEvent?: (event: JobEvent) => void;
}

export type JobListener = (commandId: string, event: JobEvent) => void;

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly requestCommand = new Map<number, string>();
  private readonly listeners = new Set<JobListener>();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (e) => this.onMessage(String(e.data)));
    socket.addEventListener('close', () => {
      for (const p of this.pending.values()) p.reject(new RpcError('IO_ERROR', 'The connection to the backend closed; reload the page'));
      this.pending.clear();
    });
  }

  static connect(): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`);
      socket.addEventListener('open', () => resolve(new RpcClient(socket)), { once: true });
      socket.addEventListener('error', () => reject(new RpcError('PERMISSION_DENIED', 'Cannot reach the backend: open the URL with the token that `shadowdisk serve` printed')), { once: true });
    });
  }

  call<T>(method: string, params: Record<string, unknown> = {}, onEvent?: (event: JobEvent) => void): Promise<T> {
    const id = this.nextId++;
    if (method === 'commands.execute' || method === 'views.data') this.requestCommand.set(id, String(params['id']));
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...(onEvent ? { onEvent } : {}) });
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Runs a command by id with CLI words as arguments (`['/dev/loop3', 'gpt', '--yes']`). */
  execute<T = unknown>(id: string, argv: string[] = [], onEvent?: (event: JobEvent) => void): Promise<CommandOutcome<T>> {
    return this.call<CommandOutcome<T>>('commands.execute', { id, argv }, onEvent);
  }

  /** Hears every job's events (the job bar). */
  onJob(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private onMessage(text: string): void {
    const message = JSON.parse(text) as { id?: number; method?: string; params?: { requestId: number; event: JobEvent }; result?: unknown; error?: { message: string; data?: { code?: string } } };
    if (message.method === 'job.event' && message.params) {
      const { requestId, event } = message.params;
      this.pending.get(requestId)?.onEvent?.(event);
      const commandId = this.requestCommand.get(requestId);
      if (commandId) for (const l of this.listeners) l(commandId, event);
      return;
    }
    if (typeof message.id !== 'number') return;
    const pending = this.pending.get(message.id);
    this.pending.delete(message.id);
    this.requestCommand.delete(message.id);
    if (!pending) return;
    if (message.error) pending.reject(new RpcError(message.error.data?.code ?? 'INTERNAL', message.error.message));
    else pending.resolve(message.result);
  }
}
