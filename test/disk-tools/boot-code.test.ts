// `disk boot-code`: our bootstrap is the assembly of its documented source (GNU as judges), installs into bytes 0-439
// only (sfdisk --dump and bytes 440-511 unchanged) and restore gives the original bytes back.
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHADOWDISK_MBR_CODE } from '../../plugins/disk-tools/mbr-bootstrap.js';
import { run, tempDir } from '../helpers/index.js';
import { partitionedDisk, readAt, withHost } from './disk-fixtures.js';

const SOURCE = new URL('../../plugins/disk-tools/mbr-bootstrap.S', import.meta.url).pathname;

async function writeAt(path: string, offset: number, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

describe('disk boot-code', () => {
  it('ships exactly the bytes GNU as assembles from the documented source, which fit before the disk signature', async () => {
    await using scratch = await tempDir();
    const object = join(scratch.path, 'mbr.o');
    const binary = join(scratch.path, 'mbr.bin');
    await run('as', ['--32', '-o', object, SOURCE]);
    await run('objcopy', ['-O', 'binary', '-j', '.text', object, binary]);
    expect(Buffer.from(SHADOWDISK_MBR_CODE).equals(await readFile(binary))).toBe(true);
    expect(SHADOWDISK_MBR_CODE.length).toBeLessThanOrEqual(440);
    const listing = (await run('objdump', ['-D', '-b', 'binary', '-m', 'i8086', '--adjust-vma=0x600', binary])).stdout;
    // Relocates itself, reads by INT 13h (AH=42h packet and AH=02h CHS), prints through INT 10h, jumps to 0000:7C00.
    for (const instruction of ['rep movsw', 'ljmp   $0x0,$0x61e', 'cmpb   $0x80,(%si)', 'mov    $0x42,%ah', 'mov    $0x201,%ax', 'int    $0x13', 'int    $0x10', 'cmpw   $0xaa55,0x7dfe', 'ljmp   $0x0,$0x7c00']) {
      expect(listing).toContain(instruction);
    }
  });

  it('installs into bytes 0-439 of an MBR disk with the table byte-identical, and restores the original code', async () => {
    await using disk = await partitionedDisk(32, 'label: dos\nlabel-id: 0x1234abcd\n,8MiB,L,*\n,8MiB,L\n');
    const original = randomBytes(440);
    await writeAt(disk.loop.path, 0, original);
    const dumpBefore = (await run('sfdisk', ['--dump', disk.loop.path])).stdout;
    const sectorBefore = await readAt(disk.loop.path, 0, 512);
    const imageBefore = await readFile(disk.image.path);
    await withHost(async (host) => {
      const exec = (verb: string, options: Record<string, string | boolean> = {}) =>
        host.executeCommand(`shadowdisk.disk-tools.boot-code-${verb}`, { positionals: [disk.loop.path], options }).then((r) => r.data as Record<string, unknown>);
      expect(await exec('show')).toMatchObject({ code: 'unknown', table: 'mbr', activePartitions: [1], diskSignature: 'cdab3412', backups: [] });
      expect(await exec('install', { 'dry-run': true })).toMatchObject({ dryRun: true });
      expect((await readFile(disk.image.path)).equals(imageBefore)).toBe(true);

      const installed = await exec('install', { yes: true });
      expect(installed).toMatchObject({ code: 'shadowdisk', previous: 'unknown', warning: null });
      const sector = await readAt(disk.loop.path, 0, 512);
      expect(sector.subarray(0, SHADOWDISK_MBR_CODE.length).equals(Buffer.from(SHADOWDISK_MBR_CODE))).toBe(true);
      expect(sector.subarray(SHADOWDISK_MBR_CODE.length, 440).every((b) => b === 0)).toBe(true);
      expect(sector.subarray(440).equals(sectorBefore.subarray(440))).toBe(true);
      expect((await run('sfdisk', ['--dump', disk.loop.path])).stdout).toBe(dumpBefore);
      expect((await run('sfdisk', ['--verify', disk.loop.path])).code).toBe(0);
      // Everything but the code area of the image is as it was.
      const imageAfter = await readFile(disk.image.path);
      expect(imageAfter.subarray(440).equals(imageBefore.subarray(440))).toBe(true);
      expect(((await exec('show')).backups as unknown[]).length).toBe(1);

      const restored = await exec('restore', { yes: true });
      expect(restored).toMatchObject({ code: 'unknown' });
      expect((await readFile(disk.image.path)).equals(imageBefore)).toBe(true);
      expect((await run('sfdisk', ['--dump', disk.loop.path])).stdout).toBe(dumpBefore);
    });
  });

  it('refuses a disk without an MBR and a partition, with nothing written', async () => {
    await using disk = await partitionedDisk(16, 'label: dos\n,4MiB,L\n');
    await withHost(async (host) => {
      const install = (target: string) => host.executeCommand('shadowdisk.disk-tools.boot-code-install', { positionals: [target], options: { yes: true } });
      await expect(install(disk.partitions[0]!)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await writeAt(disk.loop.path, 510, Uint8Array.of(0, 0));
      const before = await readFile(disk.image.path);
      await expect(install(disk.loop.path)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('has no MBR') });
      expect((await readFile(disk.image.path)).equals(before)).toBe(true);
      await expect(host.executeCommand('shadowdisk.disk-tools.boot-code-restore', { positionals: [disk.loop.path], options: { yes: true } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});
