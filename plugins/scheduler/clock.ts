// The scheduler's notion of now: the system clock in the daemon, a hand-moved one in tests (runs are named after it).

export interface Clock {
  now(): number;
  /** Resolves at `atMs` on this clock (or at once if it has passed); rejects when the signal aborts. */
  sleepUntil(atMs: number, signal: AbortSignal): Promise<void>;
}

/** Wall time; long sleeps wake at least once a minute so a changed system clock or suspend is noticed. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleepUntil(atMs, signal) {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const timer = setTimeout(done, Math.min(Math.max(atMs - Date.now(), 0), 60_000));
      function done() {
        signal.removeEventListener('abort', aborted);
        resolve();
      }
      function aborted() {
        clearTimeout(timer);
        reject(signal.reason as Error);
      }
      signal.addEventListener('abort', aborted, { once: true });
    });
  },
};

/** A clock that moves only when told; sleepers wake when it passes their instant. */
export class ManualClock implements Clock {
  private sleepers: { atMs: number; resolve: () => void }[] = [];

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  set(atMs: number | Date | string): void {
    this.current = typeof atMs === 'number' ? atMs : new Date(atMs).getTime();
    const due = this.sleepers.filter((s) => s.atMs <= this.current);
    this.sleepers = this.sleepers.filter((s) => s.atMs > this.current);
    for (const s of due) s.resolve();
  }

  advance(ms: number): void {
    this.set(this.current + ms);
  }

  sleepUntil(atMs: number, signal: AbortSignal): Promise<void> {
    if (atMs <= this.current) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const sleeper = { atMs, resolve };
      this.sleepers.push(sleeper);
      signal.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal.reason as Error);
      }, { once: true });
    });
  }
}
