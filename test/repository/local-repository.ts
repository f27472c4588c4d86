// A local (file://) repository holding one snapshot of an OS-like disk, with an in-process host and a state
// directory: what the browse and restore tests start from. Disposing it releases all of it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { tempDir, tempStateDir, type TempDir } from '../helpers/index.js';
import { osLikeDisk } from './os-like-disk.js';

export interface LocalRepository extends AsyncDisposable {
  readonly state: TempDir;
  readonly scratch: TempDir;
  readonly host: ShadowdiskHost;
  readonly disk: Awaited<ReturnType<typeof osLikeDisk>>;
  /** The repository's folder, and its file:// URL. */
  readonly repoDir: string;
  readonly repo: string;
  readonly passphrase: string;
  readonly passFile: string;
  readonly snapshot: string;
}

export async function localRepository(options: { diskBytes: number; packages: number; passphrase: string }): Promise<LocalRepository> {
  const state = await tempStateDir();
  const scratch = await tempDir();
  const held: AsyncDisposable[] = [state, scratch];
  const dispose = async () => {
    for (const resource of held.reverse()) await resource[Symbol.asyncDispose]();
  };
  try {
    const host = await createHost({ stateDir: state.path, logSink: () => undefined });
    held.push(host);
    const disk = await osLikeDisk(scratch.path, 'src', options.diskBytes, options.packages, new Set());
    held.push(disk);
    const passFile = join(scratch.path, 'pass');
    await writeFile(passFile, `${options.passphrase}\n`);
    const repoDir = join(scratch.path, 'repo');
    const repo = `file://${repoDir}`;
    await host.executeCommand('shadowdisk.backup.repo-init', { positionals: [repo], options: { 'passphrase-file': passFile, 'kdf-cost': '10' } });
    const backup = await host.executeCommand('shadowdisk.backup.image-backup', { positionals: [disk.path], options: { repo, 'passphrase-file': passFile } });
    const snapshot = (backup.data as { snapshot: string }).snapshot;
    return { state, scratch, host, disk, repoDir, repo, passphrase: options.passphrase, passFile, snapshot, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
