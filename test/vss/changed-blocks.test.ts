// Changed blocks between two reflink sets, from their clones' extent maps: every block that differs between the two
// snapshot devices is in the map (judged by reading both devices), the map stays small, and it drives an incremental
// image of the second set whose chain restores byte for byte to that snapshot.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, sparseImage, tempDir } from '../helpers/index.js';
import { pool, vssHost } from './vss-host.js';

const MiB = 1024 * 1024;
const BLOCK = 4096;

async function readAll(path: string, sizeBytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(sizeBytes);
    await handle.read(buffer, 0, sizeBytes, 0);
    return buffer;
  } finally {
    await handle.close();
  }
}

describe('shadow changed-blocks', () => {
  it('maps every block written between two sets from their clones alone and feeds an incremental that restores exactly', async () => {
    await using p = await pool();
    await using vss = await vssHost();
    await using scratch = await tempDir('shadowdisk-vss-cbt-');
    const a = await p.volume('a', 64 * MiB, 'ext4');
    await writeFile(join(a.mountpoint, 'base.bin'), randomBytes(8 * MiB));
    await run('sync', ['-f', a.mountpoint]);
    const first = await vss.create([a.device]);
    const full = join(scratch.path, 'full.sdimg');
    await vss.host.executeCommand('shadowdisk.backup.image-backup', { positionals: [first.volumes[0]!.exposed!.device!, full] });
    await writeFile(join(a.mountpoint, 'later.bin'), randomBytes(MiB));
    await run('sh', ['-c', `dd if=/dev/urandom of=${a.mountpoint}/base.bin bs=4096 count=16 seek=100 conv=notrunc status=none && sync -f ${a.mountpoint}`]);
    const second = await vss.create([a.device]);
    const map = join(scratch.path, 'changed.map');
    const result = (await vss.host.executeCommand('shadowdisk.vss.changed-blocks', { positionals: [second.id, a.device, first.id, map] })).data as { blocks: number; changedBlocks: number };
    expect(result.blocks).toBe(64 * MiB / BLOCK);
    expect(result.changedBlocks).toBeGreaterThanOrEqual(MiB / BLOCK + 16);
    expect(result.changedBlocks).toBeLessThan(result.blocks / 10);
    // The judge: every block that differs between the two snapshot devices has its bit set.
    const bitmap = readFileSync(map);
    const before = await readAll(first.volumes[0]!.exposed!.device!, 64 * MiB);
    const after = await readAll(second.volumes[0]!.exposed!.device!, 64 * MiB);
    let differing = 0;
    for (let b = 0; b < result.blocks; b++) {
      if (before.subarray(b * BLOCK, (b + 1) * BLOCK).equals(after.subarray(b * BLOCK, (b + 1) * BLOCK))) continue;
      differing++;
      expect(bitmap[b >> 3]! & (1 << (b & 7)), `block ${b} differs but is not in the map`).not.toBe(0);
    }
    expect(differing).toBeGreaterThan(0);
    const incremental = join(scratch.path, 'incremental.sdimg');
    const backup = (await vss.host.executeCommand('shadowdisk.backup.image-backup', { positionals: [second.volumes[0]!.exposed!.device!, incremental], options: { incremental: full, 'changed-blocks': map } })).data as { segmentsUnread: number };
    expect(backup.segmentsUnread).toBeGreaterThan(0);
    await using target = await sparseImage(64 * MiB, { dir: scratch.path, name: 'restored.img' });
    await vss.host.executeCommand('shadowdisk.backup.image-restore', { positionals: [incremental, target.path], options: { yes: true } });
    expect((await readAll(target.path, 64 * MiB)).equals(after)).toBe(true);
  }, 90_000);
});
