// vitest globalSetup: fails the whole run when any test left a loop device or mount behind.
import { LeakGuard } from './leak-guard.js';

export default async function setup(): Promise<() => Promise<void>> {
  const guard = await LeakGuard.start();
  return async () => {
    await guard.check();
  };
}
