// One browser connection: JSON-RPC 2.0 over a WebSocket. Commands run as jobs through the same registry as the CLI, and
// their progress and log events stream back as `job.event` notifications while the call is pending.
import type { WebSocket } from 'ws';
import { ShadowError, type CommandArgs } from '../../../sdk/index.js';
import { Job, type JobEvent } from '../../common/index.js';
import { parseCommandLine } from '../cli/command-line.js';
import { jsonReplacer } from '../cli/main.js';
import type { BackendApi } from './backend-api.js';

export interface RpcSessionOptions {
  api: BackendApi;
  /** Offers a server-side file on the binary download channel; returns its URL path. */
  offerDownload(path: string): string;
  hostVersion: string;
}

interface RpcRequest {
  jsonrpc: '2.0';
  id: number | string;
  method: string;
  params?: Record<string, unknown>;
}

type Method = (params: Record<string, unknown>, requestId: number | string) => unknown;

export class RpcSession {
  private readonly jobs = new Map<string, Job>();
  private readonly methods: Record<string, Method>;

  constructor(private readonly socket: WebSocket, private readonly options: RpcSessionOptions) {
    const { api } = options;
    this.methods = {
      'session.hello': () => ({ version: options.hostVersion, pid: process.pid }),
      'commands.list': () => {
        const keys = api.keybindings();
        return api.listCommands().map((c) => ({ ...c, keybinding: keys.find((k) => k.command === c.id)?.key ?? null }));
      },
      'commands.execute': (p, requestId) => this.execute(stringParam(p, 'id'), argsOf(p), requestId),
      'jobs.cancel': (p) => {
        this.jobs.get(stringParam(p, 'jobId'))?.cancel();
        return { cancelled: true };
      },
      'views.list': () => api.views(),
      'views.data': (p, requestId) => {
        const view = api.views().find((v) => v.id === stringParam(p, 'id'));
        if (!view) throw new ShadowError('CONTRIBUTION_NOT_FOUND', `No plugin contributes view '${String(p['id'])}'; call views.list for the views there are`);
        if (!view.dataCommand) return { view, data: null };
        return this.execute(view.dataCommand, argsOf(p), requestId).then((r) => ({ view, data: r.data }));
      },
      'keybindings.list': () => api.keybindings(),
      'settings.list': () => api.settings(),
      'downloads.offer': (p) => ({ url: options.offerDownload(stringParam(p, 'path')) }),
    };
    socket.on('message', (raw, isBinary) => void this.onMessage(isBinary ? '' : raw.toString()));
    socket.on('close', () => {
      for (const job of this.jobs.values()) job.cancel('cancelled: the browser disconnected');
    });
  }

  private async execute(id: string, args: CommandArgs, requestId: number | string): Promise<{ jobId: string; data: unknown; text: string | null }> {
    const job = new Job({ title: id, onEvent: (event: JobEvent) => this.notify('job.event', { requestId, event }) });
    this.jobs.set(job.id, job);
    this.notify('job.started', { requestId, jobId: job.id, commandId: id });
    try {
      const result = await job.run((run) => this.options.api.executeCommand(id, args, { ...run, confirm: async () => false }));
      return { jobId: job.id, data: result.data, text: result.text ?? null };
    } finally {
      this.jobs.delete(job.id);
    }
  }

  private async onMessage(text: string): Promise<void> {
    let request: RpcRequest;
    try {
      request = JSON.parse(text) as RpcRequest;
      if (request?.jsonrpc !== '2.0' || typeof request.method !== 'string' || (typeof request.id !== 'number' && typeof request.id !== 'string')) throw new Error('not a JSON-RPC 2.0 request');
    } catch (error) {
      this.send({ jsonrpc: '2.0', id: null, error: { code: -32600, message: `Invalid request: ${(error as Error).message}`, data: { code: 'INVALID_ARGUMENT' } } });
      return;
    }
    const method = this.methods[request.method];
    if (!method) {
      this.send({ jsonrpc: '2.0', id: request.id, error: { code: -32601, message: `Unknown method '${request.method}'; methods: ${Object.keys(this.methods).join(', ')}`, data: { code: 'INVALID_ARGUMENT' } } });
      return;
    }
    try {
      const result = await method(request.params ?? {}, request.id);
      this.send({ jsonrpc: '2.0', id: request.id, result: result ?? null });
    } catch (error) {
      const shadow = ShadowError.from(error);
      this.send({ jsonrpc: '2.0', id: request.id, error: { code: -32000, message: shadow.message, data: { code: shadow.code } } });
    }
  }

  private notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  private send(message: unknown): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message, jsonReplacer));
  }
}

function stringParam(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value === '') throw new ShadowError('INVALID_ARGUMENT', `Parameter '${name}' must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

/** Arguments as CLI words (`argv`, parsed as the CLI parses them) or as positionals and options. */
function argsOf(params: Record<string, unknown>): CommandArgs {
  if (params['argv'] !== undefined) {
    const argv = params['argv'];
    if (!Array.isArray(argv) || !argv.every((w) => typeof w === 'string')) throw new ShadowError('INVALID_ARGUMENT', `Parameter 'argv' must be an array of strings, got ${JSON.stringify(argv)}`);
    const line = parseCommandLine(argv);
    return { positionals: line.words, options: line.options };
  }
  const positionals = params['positionals'] ?? [];
  const options = params['options'] ?? {};
  if (!Array.isArray(positionals) || !positionals.every((p) => typeof p === 'string')) {
    throw new ShadowError('INVALID_ARGUMENT', `Parameter 'positionals' must be an array of strings, got ${JSON.stringify(positionals)}`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options) || !Object.values(options).every((v) => typeof v === 'string' || typeof v === 'boolean')) {
    throw new ShadowError('INVALID_ARGUMENT', `Parameter 'options' must map option names to strings or booleans, got ${JSON.stringify(options)}`);
  }
  return { positionals, options: options as Record<string, string | boolean> };
}
