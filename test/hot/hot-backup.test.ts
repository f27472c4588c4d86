// hot backup: images of an attached volume's snapshots through the backup plugin; an incremental after the previous
// hot backup reads only the blocks the engine saw changed, and its chain restores to the volume at the cut.
import { createHash, randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocAligned, DirectFile } from '../../native/index.js';
import { prng, sparseImage } from '../helpers/index.js';
import { hotAttach, hotHost } from './hot-volume.js';

const MiB = 1024 * 1024;
const BLOCK = 4096;

interface HotBackupData { changedBlockMap: { used: boolean; changedBlocks: number; reason?: string } }

describe('hot backup', () => {
  it('takes a full and then an incremental image from the changed-block map, and the chain restores to the volume at the cut', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(64 * MiB, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    const backup = async (file: string, options: Record<string, string> = {}) =>
      (await hot.host.executeCommand('shadowdisk.hot-processing.backup', { positionals: [volume.device, join(hot.scratch, file)], options })).data as HotBackupData;
    {
      using device = DirectFile.open(volume.device, 'r+');
      const data = allocAligned(16 * MiB);
      randomFillSync(data);
      await device.write(data, 0n);
    }
    const full = await backup('full.sdimg');
    expect(full.changedBlockMap).toMatchObject({ used: false, reason: expect.stringContaining('full backup') });
    const random = prng(9);
    const written = new Set<number>();
    {
      using device = DirectFile.open(volume.device, 'r+');
      const block = allocAligned(BLOCK);
      for (let i = 0; i < 40; i++) {
        randomFillSync(block);
        const b = Math.floor(random() * (64 * MiB / BLOCK));
        written.add(b);
        await device.write(block, BigInt(b * BLOCK));
      }
    }
    // The same through the backup plugin: image backup --hot.
    const incremental = (await hot.host.executeCommand('shadowdisk.backup.image-backup', { positionals: [volume.device, join(hot.scratch, 'incr.sdimg')], options: { hot: true, incremental: join(hot.scratch, 'full.sdimg') } })).data as HotBackupData;
    expect(incremental.changedBlockMap).toEqual({ used: true, generation: 2, changedBlocks: written.size });
    // Each image names the attached volume's origin as its source, not the snapshot's loop device.
    for (const file of ['full.sdimg', 'incr.sdimg']) {
      const info = await hot.host.executeCommand('shadowdisk.backup.image-info', { positionals: [join(hot.scratch, file)], options: { json: true } });
      expect((info.data as { source: { path: string } }).source.path).toBe(volume.attachment.origin);
    }
    const again = await backup('incr-again.sdimg', { incremental: join(hot.scratch, 'full.sdimg') });
    expect(again.changedBlockMap).toMatchObject({ used: false, reason: expect.stringContaining("previous hot backup") });

    await using target = await sparseImage(64 * MiB, { dir: hot.scratch, name: 'restored.img' });
    await hot.host.executeCommand('shadowdisk.backup.image-restore', { positionals: [join(hot.scratch, 'incr.sdimg'), target.path], options: { yes: true } });
    const volumeNow = createHash('sha256');
    {
      using device = DirectFile.open(volume.device, 'r');
      const window = allocAligned(4 * MiB);
      for (let at = 0; at < 64 * MiB; at += window.length) {
        await device.read(window, BigInt(at));
        volumeNow.update(window);
      }
    }
    expect(createHash('sha256').update(await readFile(target.path)).digest('hex')).toBe(volumeNow.digest('hex'));
  });
});
