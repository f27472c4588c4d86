// `disk surface-test` on a loop device over the testdisk FUSE server failing reads at chosen LBAs: the bad-sector map
// lists exactly those ranges (with their partitions), for the disk, a partition and a range of it.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Job, type JobEvent } from '../../core/common/index.js';
import { loopDevice, loopPartitionNodes, mkfs, mount, powerCutDisk, run, sparseImage } from '../helpers/index.js';
import { MiB, withHost } from './disk-fixtures.js';

interface SurfaceData {
  sectorSize: number;
  readBytes: number;
  badSectors: number;
  badRanges: { firstLba: number; count: number; lastLba: number; partition: string | null }[];
  mapFile: string;
}

// Disk LBAs (512-byte sectors): one sector at the very start, one in partition 1, a run across a 4 MiB block
// boundary in partition 1, a run in partition 2 and the last sector of the disk.
const FAILING: [number, number][] = [[0, 1], [5000, 1], [16380, 9], [70001, 37], [131071, 1]];

describe('disk surface-test', () => {
  it('maps exactly the failing sectors of a disk, a partition and a range, each with its partition', async () => {
    await using backing = await sparseImage(64 * MiB);
    await run('sfdisk', ['--quiet', backing.path], { input: 'label: dos\n,31MiB,L\n,,L\n' });
    await using disk = await powerCutDisk(backing.path, { failReads: FAILING.slice(1) });
    await run('partx', ['--add', disk.device]);
    // partx has read the table; now sector 0 fails too.
    await disk.failReads(FAILING);
    const [p1, p2] = (await loopPartitionNodes(disk.device)).sort().map((name) => `/dev/${name}`);
    await withHost(async (host) => {
      const events: JobEvent[] = [];
      const surface = async (target: string, options: Record<string, string> = {}) => {
        const job = new Job({ title: 'surface test', onEvent: (event) => events.push(event) });
        const run = { signal: job.signal, progress: job.progress.bind(job), log: job.log };
        return (await host.executeCommand('shadowdisk.disk-tools.surface-test', { positionals: [target], options }, run)).data as SurfaceData;
      };
      const whole = await surface(disk.device);
      // Progress through the job model: the last event has the whole disk done, a rate, and no time left.
      const progress = events.filter((e) => e.type === 'progress');
      expect(progress.at(-1)).toMatchObject({ phase: 'read', done: 64 * MiB, total: 64 * MiB, etaSec: 0 });
      expect(progress.at(-1)!.bytesPerSec).toBeGreaterThan(0);
      expect(whole.readBytes).toBe(64 * MiB);
      expect(whole.badRanges.map((r) => [r.firstLba, r.count])).toEqual(FAILING);
      expect(whole.badRanges.map((r) => r.partition)).toEqual([null, p1, p1, p2, p2]);
      expect(whole.badSectors).toBe(1 + 1 + 9 + 37 + 1);
      expect(JSON.parse(await readFile(whole.mapFile, 'utf8'))).toMatchObject({ badRanges: whole.badRanges, device: disk.device });
      expect((await disk.status()).readErrors).toBeGreaterThan(0);

      // Partition 2 starts at LBA 2048 + 31 MiB / 512 = 65536: its map still speaks in disk LBAs.
      const second = await surface(p2!);
      expect(second.badRanges).toEqual([{ firstLba: 70001, count: 37, lastLba: 70037, partition: p2 }, { firstLba: 131071, count: 1, lastLba: 131071, partition: p2 }]);

      // A range of the disk (end excluded) cuts a run in two: only what lies inside is listed.
      const part = await surface(disk.device, { range: '4096-16384', 'block-size': '1MiB' });
      expect(part.readBytes).toBe((16384 - 4096) * 512);
      expect(part.badRanges.map((r) => [r.firstLba, r.count])).toEqual([[5000, 1], [16380, 4]]);

      // The saved maps, newest first, counted per partition.
      const saved = (await host.executeCommand('shadowdisk.disk-tools.surface-maps', { positionals: [disk.device] })).data as { maps: { device: string; badSectors: number; badSectorsByPartition: Record<string, number> }[] };
      expect(saved.maps.map((m) => [m.device, m.badSectors])).toEqual([[disk.device, 5], [p2, 38], [disk.device, 49]]);
      expect(saved.maps[2]!.badSectorsByPartition).toEqual({ 'outside partitions': 1, [p1!]: 10, [p2!]: 38 });
    });
  });

  it('write-tests every block of an unused disk and puts each back, and refuses a mounted one', async () => {
    await using backing = await sparseImage(12 * MiB);
    await writeFile(backing.path, randomBytes(12 * MiB));
    await using disk = await powerCutDisk(backing.path);
    await withHost(async (host) => {
      const before = await readFile(disk.device);
      const result = (await host.executeCommand('shadowdisk.disk-tools.surface-test', { positionals: [disk.device], options: { 'write-test': true, yes: true, 'block-size': '1MiB' } })).data as SurfaceData & { writeTest: { testedBytes: number; badRanges: unknown[]; unreadableRanges: unknown[] } };
      expect(result.writeTest).toMatchObject({ testedBytes: 12 * MiB, badRanges: [], unreadableRanges: [] });
      expect(result.badRanges).toEqual([]);
      // Each 1 MiB block was written twice (pattern, then original), and reads back as it was.
      expect((await disk.status()).writes).toBeGreaterThanOrEqual(24);
      expect((await readFile(disk.device)).equals(before)).toBe(true);
    });
    await using image = await sparseImage(32 * MiB);
    await using loop = await loopDevice(image.path);
    await mkfs(loop.path, 'ext4');
    await withHost(async (host) => {
      await using mounted = await mount(loop.path);
      const before = await readFile(image.path);
      await expect(host.executeCommand('shadowdisk.disk-tools.surface-test', { positionals: [loop.path], options: { 'write-test': true, yes: true } }))
        .rejects.toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(`mounted on ${mounted.mountpoint}`) });
      expect((await readFile(image.path)).equals(before)).toBe(true);
    });
  });
});
