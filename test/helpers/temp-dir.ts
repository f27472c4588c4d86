// Temporary directories (scratch space, state directories) that remove themselves when disposed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

export async function tempDir(prefix = 'shadowdisk-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true });
    },
  };
}

/** A fresh state directory, for tests that run the host with SHADOWDISK_HOME pointing at it. */
export function tempStateDir(): Promise<TempDir> {
  return tempDir('shadowdisk-state-');
}
