// Flush-and-hold: FIFREEZE every filesystem of the set (all at once, one worker thread each), run the commit while
// they are held, thaw them all, within a bounded window. The thaw watchdog learns the list first, so a coordinator
// that dies or hangs here still thaws them.
import { ShadowError } from '../../sdk/index.js';
import type { FreezerPool } from './freezer-pool.js';
import type { ThawWatchdog } from './watchdog-client.js';

/** How much longer than the window the watchdog waits: the coordinator enforces the window itself while it lives. */
const WATCHDOG_GRACE_MS = 2000;

export interface HoldTimings {
  /** From the first FIFREEZE to the last FITHAW. */
  holdMs: number;
  /** Its parts: every FIFREEZE (in parallel), the providers' commits, every FITHAW. */
  freezeMs?: number;
  commitMs?: number;
  thawMs?: number;
}

/** Runs `commit` with every mountpoint frozen; `timings.holdMs` is filled in also when it fails. */
export async function flushAndHold<T>(freezers: FreezerPool, mountpoints: readonly string[], watchdog: ThawWatchdog, windowMs: number, commit: () => Promise<T>, timings: HoldTimings): Promise<T> {
  await watchdog.hold(mountpoints, windowMs + WATCHDOG_GRACE_MS);
  const started = performance.now();
  let frozen: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const freeze = await freezers.run('freeze');
    frozen = freeze.done;
    timings.freezeMs = performance.now() - started;
    const [failure] = freeze.failed;
    if (failure !== undefined) {
      if (failure.code === 'EBUSY') throw new ShadowError('TARGET_BUSY', `Cannot freeze '${failure.mountpoint}': it is frozen already (by another tool or snapshot); thaw it (fsfreeze -u) or wait`);
      throw new ShadowError('IO_ERROR', `Cannot freeze '${failure.mountpoint}': ${failure.message}`);
    }
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ShadowError('TIMEOUT', `Flush-and-hold of ${mountpoints.join(', ')} did not finish within its ${windowMs} ms window; the set is aborted and the filesystems thawed`, { details: { phase: 'flush-and-hold', windowMs } })), Math.max(0, windowMs - (performance.now() - started)));
    });
    const result = await Promise.race([commit(), overrun]);
    timings.commitMs = performance.now() - started - timings.freezeMs;
    return result;
  } finally {
    clearTimeout(timer);
    const thawStarted = performance.now();
    // EINVAL: not frozen any more, the watchdog's deadline thawed it.
    const thaw = frozen.length > 0 ? await freezers.run('thaw', frozen) : { failed: [] };
    const thawErrors = thaw.failed.filter((f) => f.code !== 'EINVAL').map((f) => `${f.mountpoint}: ${f.message}`);
    timings.holdMs = performance.now() - started;
    timings.thawMs = performance.now() - thawStarted;
    await watchdog.release();
    if (thawErrors.length > 0) throw new ShadowError('IO_ERROR', `Cannot thaw ${thawErrors.join('; ')}; thaw by hand with 'fsfreeze -u MOUNTPOINT'`);
    if (watchdog.expired.length > 0) throw new ShadowError('TIMEOUT', `The thaw watchdog thawed ${watchdog.expired.join(', ')} at its deadline; the set is aborted`);
  }
}
