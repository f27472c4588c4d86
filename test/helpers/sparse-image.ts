// Sparse image files that stand in for disks; removed when disposed.
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface SparseImage extends AsyncDisposable {
  readonly path: string;
  readonly sizeBytes: number;
}

export async function sparseImage(sizeBytes: number, options: { dir?: string; name?: string } = {}): Promise<SparseImage> {
  const owned = options.dir ? undefined : await tempDir('shadowdisk-img-');
  const path = join(options.dir ?? owned!.path, options.name ?? 'disk.img');
  const handle = await open(path, 'wx');
  try {
    await handle.truncate(sizeBytes);
  } finally {
    await handle.close();
  }
  return {
    path,
    sizeBytes,
    async [Symbol.asyncDispose]() {
      if (owned) await owned[Symbol.asyncDispose]();
      else await rm(path, { force: true });
    },
  };
}
