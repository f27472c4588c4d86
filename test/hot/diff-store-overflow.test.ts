// A diff store that cannot hold the snapshot's old blocks: the snapshot fails with a named error at once, reads from
// it fail with EIO, and every write to the origin lands (its hash is what was written).
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocAligned, DirectFile } from '../../native/index.js';
import { mount, sparseImage } from '../helpers/index.js';
import { hotAttach, hotHost } from './hot-volume.js';

const MiB = 1024 * 1024;

async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('diff-store overflow', () => {
  it('warns at 90% and fails the snapshot with DIFF_STORE_FULL within a second when 256 MiB of writes meet a 64 MiB diff store, and the origin loses nothing', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(512 * MiB, { dir: hot.scratch });
    const expected = createHash('sha256');
    {
      await using volume = await hotAttach(hot, image.path, { 'diff-limit-mib': '64' });
      const created = await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-create', { positionals: [volume.device] });
      const snapshotDevice = (created.data as { snapshot: { device: string } }).snapshot.device;
      const chunk = allocAligned(MiB);
      const startedAt: number[] = [];
      {
        using file = DirectFile.open(volume.device, 'r+');
        for (let mib = 0; mib < 256; mib++) {
          randomFillSync(chunk);
          startedAt.push(Date.now());
          await file.write(chunk, BigInt(mib * MiB));
          expected.update(chunk);
          // 59 MiB of 64 is past 90%: the store warns before it fails.
          // The slot index holds only the page (65,536 blocks) these writes touched, not one for each of the 512 MiB.
          if (mib === 58) expect((await volume.client.status()).snapshot).toMatchObject({ state: 'active', diffStoreWarningPercent: 90, slotIndexBytes: 256 * 1024 });
        }
      }
      const { snapshot } = await volume.client.status();
      expect(snapshot).toMatchObject({ state: 'failed', error: { code: 'DIFF_STORE_FULL' } });
      // The 65th MiB is the first the store cannot hold: the snapshot failed during that write.
      expect(snapshot.error!.atMs).toBeGreaterThanOrEqual(startedAt[64]! - 5);
      expect(snapshot.error!.atMs - startedAt[64]!).toBeLessThan(1000);
      const listed = await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-list', { options: { json: true } });
      expect((listed.data as { snapshots: unknown[] }).snapshots).toEqual([expect.objectContaining({ state: 'failed', error: expect.objectContaining({ code: 'DIFF_STORE_FULL' }) })]);
      {
        using reader = DirectFile.open(snapshotDevice, 'r');
        await expect(reader.read(allocAligned(MiB), 0n)).rejects.toMatchObject({ code: 'EIO' });
      }
      const stores = await readdir(hot.diffDir);
      for (const store of stores) expect((await stat(join(hot.diffDir, store))).size).toBeLessThanOrEqual(64 * MiB);
    }
    for (let mib = 256; mib < 512; mib++) expected.update(Buffer.alloc(MiB));
    expect(await fileHash(image.path)).toBe(expected.digest('hex'));
  });

  it('grows the diff store in steps and never into the reserve its filesystem keeps free: a 160 MiB tmpfs takes 96 MiB, then the snapshot fails naming the reserve', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(256 * MiB, { dir: hot.scratch });
    await using store = await mount('shadowdisk-diff', { type: 'tmpfs', options: ['size=160M'] });
    const expected = createHash('sha256');
    {
      await using volume = await hotAttach(hot, image.path, { 'diff-dir': store.mountpoint });
      await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-create', { positionals: [volume.device] });
      // One step (64 MiB) is allocated with the snapshot; the store can reach 160 - 64 (the reserve, 64 MiB here).
      expect((await volume.client.status()).snapshot).toMatchObject({ state: 'active', diffStoreAllocatedBytes: 64 * MiB, diffStoreLimitBytes: 96 * MiB, diffStoreReserveBytes: 64 * MiB });
      const chunk = allocAligned(MiB);
      const seen: { mib: number; allocated?: number; warning?: number | null; state: string }[] = [];
      {
        using file = DirectFile.open(volume.device, 'r+');
        for (let mib = 0; mib < 256; mib++) {
          randomFillSync(chunk);
          await file.write(chunk, BigInt(mib * MiB));
          expected.update(chunk);
          if (mib === 10 || mib === 70 || mib === 90) {
            const { snapshot } = await volume.client.status();
            seen.push({ mib, allocated: snapshot.diffStoreAllocatedBytes, warning: snapshot.diffStoreWarningPercent ?? null, state: snapshot.state });
          }
        }
      }
      // The second step is the 32 MiB left above the reserve; 90 MiB of 96 is past 90%.
      expect(seen).toEqual([
        { mib: 10, allocated: 64 * MiB, warning: null, state: 'active' },
        { mib: 70, allocated: 96 * MiB, warning: null, state: 'active' },
        { mib: 90, allocated: 96 * MiB, warning: 90, state: 'active' },
      ]);
      const { snapshot } = await volume.client.status();
      expect(snapshot).toMatchObject({ state: 'failed', error: { code: 'DIFF_STORE_FULL', message: expect.stringContaining(`keeps ${64 * MiB} bytes free`) } });
      const stores = await readdir(store.mountpoint);
      expect(stores).toHaveLength(1);
      expect((await stat(join(store.mountpoint, stores[0]!))).size).toBe(96 * MiB);
      const fs = await statfs(store.mountpoint);
      expect(fs.bavail * fs.bsize).toBeGreaterThanOrEqual(64 * MiB);
    }
    expect(await fileHash(image.path)).toBe(expected.digest('hex'));
  });
});
