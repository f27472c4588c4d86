import { describe, expect, it } from 'vitest';
import type { StreamManifest } from '../engine/backup-manifest.js';
import { LeakGuard, run, sparseImage, tempDir } from '../../../test/helpers/index.js';
import { osLikeDisk } from '../../../test/repository/os-like-disk.js';
import { fileBoundaries, splitAtBoundaries } from './file-boundaries.js';

const logs: string[] = [];
const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
const streamAt = (startBytes: number, sizeBytes: number, filesystem: string): StreamManifest =>
  ({ id: 1, kind: 'partition', partition: 1, startBytes, sizeBytes, filesystem, method: 'test', blockSize: 4096, packedBytes: 0 }) as StreamManifest;

describe('splitAtBoundaries', () => {
  it('splits ranges in ascending order at the boundaries inside them, marking the parts that start on one', () => {
    const boundaries = Float64Array.from([100, 200, 250, 1000]);
    const cursor = { at: 0 };
    const parts = (offset: number, length: number) => [...splitAtBoundaries(boundaries, cursor, offset, length)];
    expect(parts(0, 150)).toEqual([{ offset: 0, length: 100, cutBefore: false }, { offset: 100, length: 50, cutBefore: true }]);
    // A range starting on a boundary is cut before; the next range skips the boundaries it passed.
    expect(parts(200, 100)).toEqual([{ offset: 200, length: 50, cutBefore: true }, { offset: 250, length: 50, cutBefore: true }]);
    expect(parts(400, 100)).toEqual([{ offset: 400, length: 100, cutBefore: false }]);
    expect(parts(900, 200)).toEqual([{ offset: 900, length: 100, cutBefore: false }, { offset: 1000, length: 100, cutBefore: true }]);
    expect(cursor.at).toBe(4);
  });
});

describe('fileBoundaries', () => {
  it("lists where every file's extents start and end on an ext4 partition, as debugfs sees them, and releases its mount and loop device", async () => {
    await using scratch = await tempDir();
    const guard = await LeakGuard.start();
    await using disk = await osLikeDisk(scratch.path, 'b', 256 * 1024 * 1024, 6, new Set());
    const { stdout } = await run('sfdisk', ['--json', disk.path]);
    const part = (JSON.parse(stdout) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable.partitions[0]!;
    const start = part.start * 512;
    const offsets = await fileBoundaries(disk.path, streamAt(start, part.size * 512, 'ext4'), log);
    expect(offsets).toBeDefined();
    const found = new Set(offsets);
    // The judge: debugfs on a copy of the partition, each file's blocks in file order.
    const fsCopy = `${scratch.path}/fs.img`;
    await run('dd', [`if=${disk.path}`, `of=${fsCopy}`, 'bs=1M', `skip=${start}`, `count=${part.size * 512}`, 'iflag=skip_bytes,count_bytes', 'status=none']);
    const { stdout: stats } = await run('dumpe2fs', ['-h', fsCopy]);
    const blockSize = Number(/^Block size:\s+(\d+)/m.exec(stats)![1]);
    const { stdout: listing } = await run('debugfs', ['-R', 'ls -p /usr/lib/package-3', fsCopy]);
    const files = listing.split('\n').map((l) => l.split('/')).filter((f) => f[5]?.startsWith('file-')).map((f) => f[5]!);
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const name of files) {
      const { stdout: blocks } = await run('debugfs', ['-R', `blocks /usr/lib/package-3/${name}`, fsCopy]);
      const list = blocks.trim().split(/\s+/).map(Number);
      expect(found.has(start + list[0]! * blockSize)).toBe(true);
      expect(found.has(start + (list.at(-1)! + 1) * blockSize)).toBe(true);
    }
    // Sorted and distinct, all inside the partition.
    const all = [...offsets!];
    expect(all).toEqual([...new Set(all)].sort((a, b) => a - b));
    expect(all[0]).toBeGreaterThanOrEqual(start);
    expect(all.at(-1)).toBeLessThanOrEqual(start + part.size * 512);
    await guard.check();
  });

  it('gives no boundaries, and says why, for a volume it cannot mount; nothing is left behind', async () => {
    await using image = await sparseImage(64 * 1024 * 1024);
    const guard = await LeakGuard.start();
    logs.length = 0;
    expect(await fileBoundaries(image.path, streamAt(1024 * 1024, 32 * 1024 * 1024, 'ext4'), log)).toBeUndefined();
    expect(logs.join('\n')).toMatch(/chunked by content alone: its files could not be listed/);
    expect(await fileBoundaries(image.path, streamAt(0, 32 * 1024 * 1024, 'swap'), log)).toBeUndefined();
    await guard.check();
  });
});
