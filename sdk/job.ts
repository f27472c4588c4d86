// What long-running work sees and reports: an AbortSignal in, progress events out.

/** A progress event, emitted at least once a second while a job runs. */
export interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
  /** Bytes (or units) per second over the recent window; 0 until measurable. */
  bytesPerSec: number;
  /** Seconds left at the current rate; null when unknown. */
  etaSec: number | null;
}

/** What a plugin passes to report progress; the host computes rate and ETA. */
export interface ProgressUpdate {
  phase?: string;
  done: number;
  total?: number;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Handed to every long call: cancel through `signal`, report through `progress`. */
export interface RunContext {
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  readonly log: Logger;
  /**
   * Asks the person at the terminal a yes/no question; resolves false where nobody can answer (no TTY, --json,
   * a scheduled run). Destructive commands go on only on true or an explicit --yes.
   */
  confirm?(question: string): Promise<boolean>;
}
