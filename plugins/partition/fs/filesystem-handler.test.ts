import { closeSync, openSync, readSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunContext } from '../../../sdk/index.js';
import { createHost } from '../../../core/node/index.js';
import { loopDevice, run, sparseImage, tempStateDir } from '../../../test/helpers/index.js';
import { handlerForType } from './filesystem-handler.js';

const quiet: RunContext = { signal: new AbortController().signal, progress: () => undefined, log: { info: () => undefined, warn: () => undefined, error: () => undefined } };

async function blkid(device: string): Promise<Record<string, string>> {
  const { stdout } = await run('blkid', ['-p', '-o', 'export', device]);
  // `-o export` escapes spaces and other specials with a backslash.
  return Object.fromEntries(stdout.trim().split('\n').map((l) => { const eq = l.indexOf('='); return [l.slice(0, eq), l.slice(eq + 1).replace(/\\(.)/g, '$1')]; }));
}

const CASES: { type: string; label: string; relabel: string }[] = [
  { type: 'ext2', label: 'old-ext2', relabel: 'new-ext2' },
  { type: 'ext3', label: 'old-ext3', relabel: 'new-ext3' },
  { type: 'ext4', label: 'data-ext4', relabel: 'renamed-ext4' },
  { type: 'xfs', label: 'xfsdata', relabel: 'xfsrenamed' },
  { type: 'btrfs', label: 'btrfs pool', relabel: 'btrfs-renamed' },
  { type: 'vfat', label: 'EFI', relabel: 'BOOTFAT' },
  { type: 'ntfs', label: 'Windows Data', relabel: 'Renamed NTFS' },
  { type: 'exfat', label: 'STICK', relabel: 'RENAMED' },
  { type: 'swap', label: 'swap0', relabel: 'swap1' },
];

describe('filesystem handlers', () => {
  for (const { type, label, relabel } of CASES) {
    it(`makes ${type} that its own checker accepts and blkid identifies with the label, then relabels it`, async () => {
      await using image = await sparseImage(320 * 1024 * 1024);
      await using loop = await loopDevice(image.path);
      const handler = handlerForType(type);
      await handler.mkfs(loop.path, { type, label }, quiet);
      expect(await blkid(loop.path)).toMatchObject({ TYPE: type, LABEL: label });
      if (type !== 'swap') {
        const check = await handler.check(loop.path, type, quiet);
        expect(check, check.output).toMatchObject({ clean: true, exitCode: 0 });
      } else {
        // No swap checker exists: the kernel's own signature is the judge.
        const page = new Uint8Array(4096);
        const fd = openSync(loop.path, 'r');
        try {
          readSync(fd, page, 0, 4096, 0);
        } finally {
          closeSync(fd);
        }
        expect(new TextDecoder().decode(page.subarray(4086))).toBe('SWAPSPACE2');
      }
      await handler.setLabel(loop.path, type, relabel, quiet);
      expect((await blkid(loop.path))['LABEL']).toBe(relabel);
    });
  }

  it('refuses a label longer than the filesystem stores, before touching the device', async () => {
    await using image = await sparseImage(64 * 1024 * 1024);
    await expect(handlerForType('ext4').mkfs(image.path, { type: 'ext4', label: 'a-label-far-too-long' }, quiet)).rejects.toThrow("A ext4 label holds at most 16 bytes; 'a-label-far-too-long' has 20");
    const { stdout } = await run('blkid', ['-p', '-o', 'export', image.path], { allowFailure: true });
    expect(stdout).toBe('');
  });

  it('reports a damaged filesystem as not clean without repairing it', async () => {
    await using image = await sparseImage(64 * 1024 * 1024);
    await using loop = await loopDevice(image.path);
    const handler = handlerForType('ext4');
    await handler.mkfs(loop.path, { type: 'ext4' }, quiet);
    // Clear the root directory's inode: e2fsck -n must complain and change nothing.
    await run('debugfs', ['-w', '-R', 'clri <2>', loop.path]);
    const before = (await run('sha256sum', [loop.path])).stdout.split(' ')[0];
    const check = await handler.check(loop.path, 'ext4', quiet);
    expect(check.clean).toBe(false);
    expect(check.tool).toBe(`e2fsck -f -n ${loop.path}`);
    expect((await run('sha256sum', [loop.path])).stdout.split(' ')[0]).toBe(before);
  });

  it('is contributed through the filesystems point and found by the host', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    const declared = host.registry('filesystems').all().map((d) => [d.key, d.contribution.types]);
    expect(declared).toContainEqual(['shadowdisk.partition.ext', ['ext2', 'ext3', 'ext4']]);
    expect(declared).toHaveLength(7);
    const handler = await host.provider('filesystems', 'shadowdisk.partition.xfs');
    expect(handler.types).toEqual(['xfs']);
    expect(host.plugins.get('shadowdisk.partition')?.state).toBe('active');
  });
});
