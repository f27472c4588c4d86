// Incremental and differential images: 25 rounds of random writes, each followed by an incremental backup; the last
// link of the chain restores to exactly what a full backup of the same state restores to.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { loopDevice, mkfs, mount, prng, run, sparseImage, tempDir, tempStateDir } from '../helpers/index.js';
import { fileHashes, MiB, sha256File } from './backup-disk.js';

const ROUNDS = Number(process.env['INCREMENTAL_ROUNDS'] ?? 25);
const image = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.backup.image-${verb}`, { positionals, options });

/** Creates, overwrites in place, appends to and deletes files, as an application would. */
async function randomWrites(root: string, random: () => number, round: number): Promise<void> {
  await mkdir(join(root, 'data'), { recursive: true });
  const names = Array.from({ length: 12 }, (_, i) => join(root, 'data', `file-${i}.bin`));
  for (let i = 0; i < 4; i++) {
    const name = names[Math.floor(random() * names.length)]!;
    const action = random();
    const bytes = Buffer.alloc(Math.floor(random() * 512 * 1024) + 1, `round ${round} ${i} ${random()}`);
    if (action < 0.4) await writeFile(name, bytes);
    else if (action < 0.7) await writeFile(name, bytes, { flag: 'a' });
    else if (action < 0.85) await rm(name, { force: true });
    else {
      // Overwrite a block in the middle of an existing file.
      const current = await readFile(name).catch(() => Buffer.alloc(0));
      if (current.length > 8192) current.fill(round & 0xff, 4096, 8192);
      await writeFile(name, current);
    }
  }
}

describe('incremental images', () => {
  it(`restores the last of ${ROUNDS} incrementals byte for byte like a full backup of the same state`, async () => {
    await using state = await tempStateDir();
    await using scratch = await tempDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using volume = await sparseImage(128 * MiB);
    await mkfs(volume.path, 'ext4');
    const random = prng(2026);
    const sizes: number[] = [];
    let previous = '';
    for (let round = 1; round <= ROUNDS; round++) {
      {
        await using loop = await loopDevice(volume.path);
        await using mounted = await mount(loop.path);
        await randomWrites(mounted.mountpoint, random, round);
      }
      const file = join(scratch.path, `round-${String(round).padStart(2, '0')}.sdimg`);
      const result = await image(host, 'backup', [volume.path, file], previous ? { incremental: previous } : {});
      sizes.push((result.data as { storedBytes: number }).storedBytes);
      previous = file;
    }
    const full = join(scratch.path, 'final-full.sdimg');
    const fullResult = await image(host, 'backup', [volume.path, full]);
    const fullStored = (fullResult.data as { storedBytes: number }).storedBytes;
    // Each incremental stores a fraction of what a full backup stores.
    expect(Math.max(...sizes.slice(1))).toBeLessThan(fullStored / 3);

    await using fromChain = await sparseImage(128 * MiB);
    await using fromFull = await sparseImage(128 * MiB);
    const restored = await image(host, 'restore', [previous, fromChain.path], { yes: true });
    expect((restored.data as { chain: string[] }).chain).toHaveLength(ROUNDS);
    await image(host, 'restore', [full, fromFull.path], { yes: true });
    expect(await sha256File(fromChain.path)).toBe(await sha256File(fromFull.path));
    expect((await run('e2fsck', ['-fn', fromChain.path], { allowFailure: true })).code).toBe(0);
    await using a = await loopDevice(volume.path, { readOnly: true });
    await using b = await loopDevice(fromChain.path, { readOnly: true });
    await using ma = await mount(a.path, { options: ['ro'] });
    await using mb = await mount(b.path, { options: ['ro'] });
    expect(await fileHashes(mb.mountpoint)).toEqual(await fileHashes(ma.mountpoint));
  }, 300_000);

  it('refuses a chain whose parent was replaced by another image, writing nothing', async () => {
    await using state = await tempStateDir();
    await using scratch = await tempDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using volume = await sparseImage(64 * MiB);
    await mkfs(volume.path, 'ext4');
    const base = join(scratch.path, 'base.sdimg');
    const child = join(scratch.path, 'child.sdimg');
    await image(host, 'backup', [volume.path, base]);
    await run('debugfs', ['-w', '-R', 'mkdir changed', volume.path]);
    await image(host, 'backup', [volume.path, child], { differential: base });
    // Someone makes a new full image under the parent's name.
    await rename(base, `${base}.old`);
    await image(host, 'backup', [volume.path, base]);
    await using target = await sparseImage(64 * MiB);
    const before = await sha256File(target.path);
    expect(await image(host, 'restore', [child, target.path], { yes: true }).catch((e: unknown) => e)).toMatchObject({ code: 'PARENT_MISMATCH' });
    expect(await sha256File(target.path)).toBe(before);
    // With the right parent back in place the chain restores.
    await rename(`${base}.old`, base);
    await image(host, 'restore', [child, target.path], { yes: true });
    expect((await run('debugfs', ['-R', 'ls -l /', target.path])).stdout).toContain('changed');
  }, 120_000);
});
