// Used blocks only: the image of a 4 GiB ext4 holding 100 MiB of files is at most 1.1x the size of
// `partclone.ext4 -c | zstd` of the same filesystem (the bound), and a small fraction of the volume.
import { randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost } from '../../core/node/index.js';
import { loopDevice, mkfs, mount, run, sparseImage, tempDir, tempStateDir } from '../helpers/index.js';
import { MiB } from './backup-disk.js';

describe('used blocks only', () => {
  it('images a 4 GiB ext4 holding 100 MiB of files in at most 1.1x what partclone.ext4 | zstd takes', async () => {
    await using state = await tempStateDir();
    await using scratch = await tempDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using volume = await sparseImage(4096 * MiB);
    await mkfs(volume.path, 'ext4');
    {
      await using loop = await loopDevice(volume.path);
      await using mounted = await mount(loop.path);
      // Half incompressible, half text-like, in files of 1 to 4 MiB spread over a few folders.
      let written = 0;
      for (let i = 0; written < 100 * MiB; i++) {
        const size = Math.min(100 * MiB - written, (1 + (i % 4)) * MiB);
        const bytes = i % 2 === 0 ? randomBytes(size) : Buffer.from(randomBytes(size).toString('base64').slice(0, size));
        await mkdir(join(mounted.mountpoint, `dir-${i % 5}`), { recursive: true });
        await writeFile(join(mounted.mountpoint, `dir-${i % 5}`, `file-${i}.bin`), bytes);
        written += size;
      }
    }
    const ours = join(scratch.path, 'ours.sdimg');
    await host.executeCommand('shadowdisk.backup.image-backup', { positionals: [volume.path, ours], options: { level: '3' } });
    const theirs = join(scratch.path, 'partclone.zst');
    await run('sh', ['-c', 'partclone.ext4 -c -q -s "$1" -o - 2>/dev/null | zstd -q -3 -o "$2"', 'sh', volume.path, theirs]);
    const oursBytes = (await stat(ours)).size;
    const theirBytes = (await stat(theirs)).size;
    expect(theirBytes).toBeGreaterThan(50 * MiB);
    expect(oursBytes / theirBytes).toBeLessThanOrEqual(1.1);
    expect(oursBytes).toBeLessThan(0.05 * 4096 * MiB);
  }, 180_000);
});
