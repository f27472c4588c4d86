// `image list`: a folder holding a full image with incrementals and a differential, an encrypted image, an image
// whose parent is gone, a truncated image and a file that is no image; chains come out in order, damage is listed.
import { copyFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShadowdiskHost } from '../../core/node/index.js';
import { mkfs, run, sparseImage } from '../helpers/index.js';
import { MiB, withHost } from './backup-disk.js';

interface Listed {
  file: string;
  kind: string | null;
  depth: number;
  chain: number;
  encrypted: boolean | null;
  parent: { file: string; state: string } | null;
  source: { path: string; kind: string } | null;
  error: { code: string } | null;
}

const list = async (host: ShadowdiskHost, positionals: string[], options: Record<string, string | boolean> = {}) => {
  const result = await host.executeCommand('shadowdisk.backup.image-list', { positionals, options });
  return { ...(result.data as { images: Listed[]; chains: string[][] }), text: result.text ?? '' };
};

describe('image list', () => {
  it('lists the images of a folder with chains in order, encrypted and damaged files included', async () => {
    await using volume = await sparseImage(32 * MiB);
    await mkfs(volume.path, 'ext4');
    await withHost(async (host, dir) => {
      const backup = (file: string, options: Record<string, string> = {}) =>
        host.executeCommand('shadowdisk.backup.image-backup', { positionals: [volume.path, join(dir, file)], options });
      const change = (name: string) => run('debugfs', ['-w', '-R', `mkdir ${name}`, volume.path]);
      await backup('full.sdimg');
      await change('a');
      await backup('inc1.sdimg', { incremental: join(dir, 'full.sdimg') });
      await change('b');
      await backup('inc2.sdimg', { incremental: join(dir, 'inc1.sdimg') });
      await backup('diff.sdimg', { differential: join(dir, 'full.sdimg') });
      const passphraseFile = join(dir, 'pass');
      await writeFile(passphraseFile, 'correct horse battery staple\n');
      await backup('secret.sdimg', { 'passphrase-file': passphraseFile, 'kdf-cost': '12' });
      await backup('gone.sdimg');
      await backup('orphan.sdimg', { incremental: join(dir, 'gone.sdimg') });
      await rm(join(dir, 'gone.sdimg'));
      await copyFile(join(dir, 'inc2.sdimg'), join(dir, 'truncated.sdimg'));
      await truncate(join(dir, 'truncated.sdimg'), (await readFile(join(dir, 'inc2.sdimg'))).length - 100);
      await writeFile(join(dir, 'notes.sdimg'), 'not an image\n');

      const listed = await list(host, [dir]);
      const byFile = new Map(listed.images.map((i) => [i.file, i]));
      expect([...byFile.keys()].sort()).toEqual(['diff.sdimg', 'full.sdimg', 'inc1.sdimg', 'inc2.sdimg', 'notes.sdimg', 'orphan.sdimg', 'secret.sdimg', 'truncated.sdimg']);
      // The chain of the full image: its incrementals in order, then its differential.
      expect(listed.chains).toContainEqual(['full.sdimg', 'inc1.sdimg', 'inc2.sdimg', 'diff.sdimg']);
      const order = listed.images.map((i) => i.file);
      expect(order.indexOf('inc1.sdimg')).toBe(order.indexOf('full.sdimg') + 1);
      expect(listed.images.filter((i) => i.chain === byFile.get('full.sdimg')!.chain).map((i) => [i.file, i.kind, i.depth, i.parent?.file ?? null])).toEqual([
        ['full.sdimg', 'full', 0, null], ['inc1.sdimg', 'incremental', 1, 'full.sdimg'], ['inc2.sdimg', 'incremental', 2, 'inc1.sdimg'], ['diff.sdimg', 'differential', 1, 'full.sdimg'],
      ]);
      expect(byFile.get('full.sdimg')).toMatchObject({ encrypted: false, source: { path: volume.path, kind: 'volume' }, error: null });
      expect(byFile.get('orphan.sdimg')).toMatchObject({ kind: 'incremental', parent: { file: 'gone.sdimg', state: 'missing' }, depth: 0 });
      expect(byFile.get('secret.sdimg')).toMatchObject({ encrypted: true, kind: null, source: null, error: null });
      expect(byFile.get('truncated.sdimg')).toMatchObject({ error: { code: 'IMAGE_CORRUPT' } });
      expect(byFile.get('notes.sdimg')).toMatchObject({ encrypted: null, error: { code: 'IMAGE_CORRUPT' } });
      expect(listed.text).toMatch(/^ {2}inc1\.sdimg +incremental of full\.sdimg /m);
      expect(listed.text).toMatch(/^ {4}inc2\.sdimg +incremental of inc1\.sdimg /m);
      expect(listed.text).toContain('incremental of gone.sdimg (missing)');
      expect(listed.text).toMatch(/^truncated\.sdimg +unreadable .*\[IMAGE_CORRUPT\]$/m);

      // With the passphrase the encrypted image's manifest is read too; without a folder, the current one is listed.
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const unlocked = await list(host, [], { 'passphrase-file': passphraseFile });
        expect(unlocked.images.find((i) => i.file === 'secret.sdimg')).toMatchObject({ kind: 'full', encrypted: true, source: { path: volume.path } });
      } finally {
        process.chdir(cwd);
      }
      expect(await list(host, [join(dir, 'nowhere')]).catch((e: unknown) => e)).toMatchObject({ code: 'NOT_FOUND' });
    });
  }, 60_000);
});
