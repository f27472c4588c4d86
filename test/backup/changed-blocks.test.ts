// Incrementals driven by a changed-block map (the interface hot processing feeds): segments nothing wrote are not read,
// and the chain still restores byte for byte like a full backup of the same state.
import { readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { loopDevice, mkfs, mount, sparseImage, tempDir, tempStateDir } from '../helpers/index.js';
import { MiB, sha256File } from './backup-disk.js';

const BLOCK = 4096;
const backup = (host: ShadowdiskHost, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand('shadowdisk.backup.image-backup', { positionals, options });

/** The exact map of 4 KiB blocks that differ between two states of the volume: what a perfect tracker would record. */
function changedMap(before: Buffer, after: Buffer): Buffer {
  const blocks = Math.ceil(after.length / BLOCK);
  const bits = Buffer.alloc(Math.ceil(blocks / 8));
  for (let b = 0; b < blocks; b++) {
    if (before.compare(after, b * BLOCK, (b + 1) * BLOCK, b * BLOCK, (b + 1) * BLOCK) !== 0) bits[b >> 3]! |= 1 << (b & 7);
  }
  return bits;
}

describe('incremental backups from a changed-block map', () => {
  it('skips unwritten segments without reading them and restores like a full backup of the same state', async () => {
    await using state = await tempStateDir();
    await using scratch = await tempDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using volume = await sparseImage(96 * MiB);
    await mkfs(volume.path, 'ext4');
    {
      await using loop = await loopDevice(volume.path);
      await using mounted = await mount(loop.path);
      for (let i = 0; i < 20; i++) await writeFile(join(mounted.mountpoint, `f${i}.bin`), Buffer.alloc(1024 * 1024, `file ${i} `));
    }
    const full = join(scratch.path, 'full.sdimg');
    await backup(host, [volume.path, full]);
    const before = await readFile(volume.path);
    {
      await using loop = await loopDevice(volume.path);
      await using mounted = await mount(loop.path);
      await writeFile(join(mounted.mountpoint, 'f3.bin'), Buffer.alloc(1024 * 1024, 'rewritten '));
      await rm(join(mounted.mountpoint, 'f7.bin'));
      await writeFile(join(mounted.mountpoint, 'new.bin'), Buffer.alloc(300 * 1024, 'new '));
    }
    const map = join(scratch.path, 'changed.bitmap');
    await writeFile(map, changedMap(before, await readFile(volume.path)));

    const tracked = join(scratch.path, 'tracked.sdimg');
    const result = (await backup(host, [volume.path, tracked], { incremental: full, 'changed-blocks': map })).data as { segmentsUnread: number; storedBytes: number };
    const compared = join(scratch.path, 'compared.sdimg');
    const byComparison = (await backup(host, [volume.path, compared], { incremental: full })).data as { segmentsUnread: number; storedBytes: number };
    // Most of the 20 MiB of files was neither written nor read; what is stored matches comparing every segment.
    expect(result.segmentsUnread).toBeGreaterThan(200);
    expect(byComparison.segmentsUnread).toBe(0);
    expect(result.storedBytes).toBe(byComparison.storedBytes);

    const fullNow = join(scratch.path, 'full-now.sdimg');
    await backup(host, [volume.path, fullNow]);
    await using fromChain = await sparseImage(96 * MiB);
    await using fromFull = await sparseImage(96 * MiB);
    await host.executeCommand('shadowdisk.backup.image-restore', { positionals: [tracked, fromChain.path], options: { yes: true } });
    await host.executeCommand('shadowdisk.backup.image-restore', { positionals: [fullNow, fromFull.path], options: { yes: true } });
    expect(await sha256File(fromChain.path)).toBe(await sha256File(fromFull.path));
  }, 180_000);

  it('refuses a map without a parent and a map of another size, by name', async () => {
    await using state = await tempStateDir();
    await using scratch = await tempDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using volume = await sparseImage(32 * MiB);
    await mkfs(volume.path, 'ext4');
    const full = join(scratch.path, 'full.sdimg');
    await backup(host, [volume.path, full]);
    const map = join(scratch.path, 'short.bitmap');
    await writeFile(map, Buffer.alloc(10));
    await expect(backup(host, [volume.path, join(scratch.path, 'a.sdimg')], { 'changed-blocks': map })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--incremental') });
    await expect(backup(host, [volume.path, join(scratch.path, 'b.sdimg')], { incremental: full, 'changed-blocks': map })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('another volume') });
  }, 120_000);
});
