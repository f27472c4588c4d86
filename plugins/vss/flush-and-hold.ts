// Flush-and-hold: FIFREEZE every filesystem of the set, run the commit while they are held, thaw them all, within a
// bounded window. The thaw watchdog learns the list first, so a coordinator that dies or hangs here still thaws them.
import { freezeFilesystem, isNativeError, thawFilesystem } from '../../native/index.js';
import { ShadowError } from '../../sdk/index.js';
import type { ThawWatchdog } from './watchdog-client.js';

/** How much longer than the window the watchdog waits: the coordinator enforces the window itself while it lives. */
const WATCHDOG_GRACE_MS = 2000;

export interface HoldTimings {
  /** From the first FIFREEZE to the last FITHAW. */
  holdMs: number;
}

/** Runs `commit` with every mountpoint frozen; `timings.holdMs` is filled in also when it fails. */
export async function flushAndHold<T>(mountpoints: readonly string[], watchdog: ThawWatchdog, windowMs: number, commit: () => Promise<T>, timings: HoldTimings): Promise<T> {
  await watchdog.hold(mountpoints, windowMs + WATCHDOG_GRACE_MS);
  const frozen: string[] = [];
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (const mountpoint of mountpoints) {
      try {
        freezeFilesystem(mountpoint);
      } catch (error) {
        if (isNativeError(error) && error.code === 'EBUSY') throw new ShadowError('TARGET_BUSY', `Cannot freeze '${mountpoint}': it is frozen already (by another tool or snapshot); thaw it (fsfreeze -u) or wait`, { cause: error });
        throw new ShadowError('IO_ERROR', `Cannot freeze '${mountpoint}': ${(error as Error).message}`, { cause: error });
      }
      frozen.push(mountpoint);
    }
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ShadowError('TIMEOUT', `Flush-and-hold of ${mountpoints.join(', ')} did not finish within its ${windowMs} ms window; the set is aborted and the filesystems thawed`, { details: { phase: 'flush-and-hold', windowMs } })), Math.max(0, windowMs - (performance.now() - started)));
    });
    return await Promise.race([commit(), overrun]);
  } finally {
    clearTimeout(timer);
    const thawErrors: string[] = [];
    for (const mountpoint of frozen.reverse()) {
      try {
        thawFilesystem(mountpoint);
      } catch (error) {
        // EINVAL: not frozen any more, the watchdog's deadline thawed it.
        if (!(isNativeError(error) && error.code === 'EINVAL')) thawErrors.push(`${mountpoint}: ${(error as Error).message}`);
      }
    }
    timings.holdMs = performance.now() - started;
    await watchdog.release();
    if (thawErrors.length > 0) throw new ShadowError('IO_ERROR', `Cannot thaw ${thawErrors.join('; ')}; thaw by hand with 'fsfreeze -u MOUNTPOINT'`);
    if (watchdog.expired.length > 0) throw new ShadowError('TIMEOUT', `The thaw watchdog thawed ${watchdog.expired.join(', ')} at its deadline; the set is aborted`);
  }
}
