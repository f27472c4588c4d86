import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers/index.js';
import { fileExtents, FileExtentFlag } from './index.js';
import { native } from './load.js';

const MiB = 1024 * 1024;

describe('fileExtents', () => {
  it('maps a file with a hole as two extents at the written offsets, the second marked last', async () => {
    await using dir = await tempDir();
    const file = join(dir.path, 'holey.bin');
    const fd = openSync(file, 'w');
    writeSync(fd, randomBytes(MiB), 0, MiB, 0);
    writeSync(fd, randomBytes(MiB), 0, MiB, 3 * MiB);
    closeSync(fd); // not synced: FIEMAP_FLAG_SYNC must resolve delayed allocation itself

    const extents = fileExtents(file);
    const covered = (from: number, to: number) => extents.filter((e) => e.logicalBytes >= BigInt(from) && e.logicalBytes < BigInt(to));
    expect(covered(0, MiB).reduce((sum, e) => sum + e.lengthBytes, 0n)).toBe(BigInt(MiB));
    expect(covered(MiB, 3 * MiB)).toEqual([]);
    expect(covered(3 * MiB, 4 * MiB).reduce((sum, e) => sum + e.lengthBytes, 0n)).toBe(BigInt(MiB));
    for (const e of extents) expect(e.flags & FileExtentFlag.Delalloc).toBe(0);
    expect(extents.at(-1)!.flags & FileExtentFlag.Last).toBe(FileExtentFlag.Last);
  });

  it('maps a file of more extents than one FIEMAP batch holds, every one in order and none twice', async () => {
    await using dir = await tempDir();
    const file = join(dir.path, 'sparse-many.bin');
    const fd = openSync(file, 'w');
    const block = randomBytes(4096);
    const count = 5000; // more than a batch (4096): the map is read in two calls
    for (let i = 0; i < count; i++) writeSync(fd, block, 0, 4096, i * 8192);
    closeSync(fd);
    const extents = fileExtents(file);
    expect(extents).toHaveLength(count);
    const misplaced = extents.filter((e, i) => e.logicalBytes !== BigInt(i * 8192) || e.lengthBytes !== 4096n);
    expect(misplaced).toEqual([]);
    expect(extents.filter((e) => (e.flags & FileExtentFlag.Last) !== 0)).toEqual([extents.at(-1)]);
  });

  it('returns no extents for an empty file', async () => {
    await using dir = await tempDir();
    const file = join(dir.path, 'empty.bin');
    closeSync(openSync(file, 'w'));
    expect(fileExtents(file)).toEqual([]);
  });

  it('uses the same flag values as the kernel headers the addon was built with', () => {
    const c = native().constants;
    expect(FileExtentFlag).toEqual({
      Last: c.FIEMAP_EXTENT_LAST, Unknown: c.FIEMAP_EXTENT_UNKNOWN, Delalloc: c.FIEMAP_EXTENT_DELALLOC,
      Encoded: c.FIEMAP_EXTENT_ENCODED, DataEncrypted: c.FIEMAP_EXTENT_DATA_ENCRYPTED, NotAligned: c.FIEMAP_EXTENT_NOT_ALIGNED,
      DataInline: c.FIEMAP_EXTENT_DATA_INLINE, DataTail: c.FIEMAP_EXTENT_DATA_TAIL, Unwritten: c.FIEMAP_EXTENT_UNWRITTEN,
      Merged: c.FIEMAP_EXTENT_MERGED, Shared: c.FIEMAP_EXTENT_SHARED,
    });
  });
});
