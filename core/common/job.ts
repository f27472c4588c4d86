// The job model: an id, an AbortSignal, and progress events with rate and ETA, at least once a second.
import type { Logger, ProgressEvent, ProgressUpdate, RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';

export type JobEvent =
  | ({ type: 'progress'; jobId: string } & ProgressEvent)
  | { type: 'log'; jobId: string; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'finished'; jobId: string; status: 'succeeded' | 'failed' | 'cancelled'; elapsedSec: number; error?: { code: string; message: string } };

export interface JobOptions {
  title: string;
  onEvent: (event: JobEvent) => void;
  /** Parent signal (e.g. SIGINT in the CLI); aborting it aborts the job. */
  signal?: AbortSignal;
  /** How often the last progress is re-sent when the work reports nothing; at most 1000 ms. */
  heartbeatMs?: number;
  now?: () => number;
}

const RATE_WINDOW_MS = 5000;

export class Job {
  readonly id = globalThis.crypto.randomUUID();
  readonly title: string;
  private readonly controller = new AbortController();
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly samples: { at: number; done: number }[] = [];
  private last: ProgressEvent = { phase: 'starting', done: 0, total: 0, bytesPerSec: 0, etaSec: null };
  private lastEmitAt = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: JobOptions) {
    this.title = options.title;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    if (options.signal) {
      if (options.signal.aborted) this.controller.abort(options.signal.reason);
      else options.signal.addEventListener('abort', () => this.controller.abort(options.signal!.reason), { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  cancel(reason = 'cancelled by the user'): void {
    this.controller.abort(new ShadowError('ABORTED', `Job '${this.title}' was ${reason}`));
  }

  get lastProgress(): ProgressEvent {
    return this.last;
  }

  progress(update: ProgressUpdate): void {
    const at = this.now();
    const phase = update.phase ?? this.last.phase;
    const phaseChanged = phase !== this.last.phase;
    if (phaseChanged) this.samples.length = 0;
    this.samples.push({ at, done: update.done });
    while (this.samples.length > 2 && at - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    const total = update.total ?? this.last.total;
    const bytesPerSec = rate(this.samples);
    const etaSec = bytesPerSec > 0 && total > 0 ? Math.max(0, (total - update.done) / bytesPerSec) : null;
    this.last = { phase, done: update.done, total, bytesPerSec, etaSec };
    // Throttle to 5 events a second; phase changes and completion always go out.
    if (at - this.lastEmitAt >= 200 || phaseChanged || update.done === total) this.emitProgress(at);
  }

  private emitProgress(at: number): void {
    this.lastEmitAt = at;
    this.options.onEvent({ type: 'progress', jobId: this.id, ...this.last });
  }

  readonly log: Logger = {
    info: (message) => this.options.onEvent({ type: 'log', jobId: this.id, level: 'info', message }),
    warn: (message) => this.options.onEvent({ type: 'log', jobId: this.id, level: 'warn', message }),
    error: (message) => this.options.onEvent({ type: 'log', jobId: this.id, level: 'error', message }),
  };

  get runContext(): RunContext {
    return { signal: this.signal, progress: (u) => this.progress(u), log: this.log };
  }

  /** Runs the work, sending progress at least once a second, and a final `finished` event. */
  async run<T>(work: (run: RunContext) => Promise<T>): Promise<T> {
    const period = Math.min(this.options.heartbeatMs ?? 1000, 1000);
    // Checked four times a period: a check once a period just misses an emission a little less than a period old and
    // waits a whole period more (silent stretches of almost two seconds were seen by the web UI).
    const tick = Math.max(10, Math.floor(period / 4));
    this.heartbeat = setInterval(() => {
      if (this.now() - this.lastEmitAt >= period - tick) this.emitProgress(this.now());
    }, tick);
    try {
      const result = await work(this.runContext);
      this.finish('succeeded');
      return result;
    } catch (error) {
      const shadow = this.signal.aborted ? ShadowError.from(this.signal.reason ?? error, 'ABORTED') : ShadowError.from(error);
      this.finish(shadow.code === 'ABORTED' ? 'cancelled' : 'failed', { code: shadow.code, message: shadow.message });
      throw shadow;
    } finally {
      clearInterval(this.heartbeat);
    }
  }

  private finish(status: 'succeeded' | 'failed' | 'cancelled', error?: { code: string; message: string }): void {
    const elapsedSec = (this.now() - this.startedAt) / 1000;
    this.options.onEvent({ type: 'finished', jobId: this.id, status, elapsedSec, ...(error ? { error } : {}) });
  }
}

function rate(samples: readonly { at: number; done: number }[]): number {
  if (samples.length < 2) return 0;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const seconds = (last.at - first.at) / 1000;
  return seconds > 0 ? Math.max(0, (last.done - first.done) / seconds) : 0;
}
