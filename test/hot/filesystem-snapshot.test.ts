// A mounted filesystem on an attached volume, under a writer appending fsync'd checksummed records: the snapshot
// (cut with the filesystem frozen) passes the filesystem's own checker and holds every record synced before the cut.
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mkfs, mount, run, sparseImage, type LoopDevice } from '../helpers/index.js';
import { hotAttach, hotHost } from './hot-volume.js';

const MiB = 1024 * 1024;
const RECORD = 1024;

function record(index: number): Buffer {
  const bytes = Buffer.alloc(RECORD);
  bytes.writeUInt32LE(index, 0);
  randomBytes(RECORD - 36).copy(bytes, 4);
  createHash('sha256').update(bytes.subarray(0, RECORD - 32)).digest().copy(bytes, RECORD - 32);
  return bytes;
}

/** Indexes of the intact records in order; throws at the first damaged or out-of-order one. */
function readRecords(bytes: Buffer): number {
  let count = 0;
  for (let at = 0; at + RECORD <= bytes.length; at += RECORD, count++) {
    const rec = bytes.subarray(at, at + RECORD);
    const sum = createHash('sha256').update(rec.subarray(0, RECORD - 32)).digest();
    if (!sum.equals(rec.subarray(RECORD - 32)) || rec.readUInt32LE(0) !== count) throw new Error(`Record ${count} at byte ${at} is damaged`);
  }
  if (bytes.length % RECORD !== 0) throw new Error(`The log ends with a partial record (${bytes.length % RECORD} bytes)`);
  return count;
}

// A frozen ext4 has a clean journal; a frozen XFS keeps metadata in its log, which xfs_repair -n ignores (and then
// reports spurious free-space counts): XFS is judged on a copy whose log a read-write mount has replayed.
const CHECKERS = {
  ext4: { check: (device: string) => ['e2fsck', ['-fn', device]] as const, mountOptions: ['ro', 'noload'], replayLog: false },
  xfs: { check: (device: string) => ['xfs_repair', ['-n', device]] as const, mountOptions: ['ro', 'nouuid'], replayLog: true },
};

/** A loop device on a sparse copy of `device` whose XFS log has been replayed by mounting it once. */
async function replayedCopy(device: string, file: string): Promise<LoopDevice> {
  await run('cp', ['--sparse=always', device, file]);
  const loop = await loopDevice(file);
  try {
    await using replay = await mount(loop.path, { options: ['nouuid'] });
    void replay;
  } catch (error) {
    await loop[Symbol.asyncDispose]();
    throw error;
  }
  return loop;
}

describe('snapshots of mounted filesystems', () => {
  it.each(['ext4', 'xfs'] as const)('cuts a consistent %s under an fsync\'ing writer: the checker passes and every synced record is there', async (type) => {
    await using hot = await hotHost();
    await using image = await sparseImage(512 * MiB, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    await mkfs(volume.device, type);
    await using mounted = await mount(volume.device);
    let synced = 0;
    let stop = false;
    const writer = (async () => {
      const log = await open(join(mounted.mountpoint, 'records.log'), 'a');
      const bulk = await open(join(mounted.mountpoint, 'bulk.bin'), 'w');
      try {
        for (let index = 0; !stop; index++) {
          await log.write(record(index));
          await log.sync();
          synced = index + 1;
          // Unsynced bulk data too, so the freeze has dirty pages to flush through the engine.
          await bulk.write(randomBytes(64 * 1024), 0, 64 * 1024, (index * 64 * 1024) % (64 * MiB));
        }
      } finally {
        await log.close();
        await bulk.close();
      }
    })();
    writer.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
    let snapshotDevice: string;
    let syncedBeforeCut: number;
    try {
      await new Promise((r) => setTimeout(r, 500));
      syncedBeforeCut = synced;
      const created = await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-create', { positionals: [volume.device] });
      snapshotDevice = (created.data as { snapshot: { device: string } }).snapshot.device;
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stop = true;
      await writer;
    }
    expect(synced).toBeGreaterThan(syncedBeforeCut);
    const checker = CHECKERS[type];
    await using copy = checker.replayLog ? await replayedCopy(snapshotDevice, join(hot.scratch, 'snapshot-copy.img')) : undefined;
    const judged = copy?.path ?? snapshotDevice;
    const [tool, args] = checker.check(judged);
    const checked = await run(tool, args, { allowFailure: true });
    expect(checked.code, `${tool} ${args.join(' ')}: ${checked.stdout}${checked.stderr}`).toBe(0);
    await using view = await mount(judged, { options: checker.mountOptions });
    const count = readRecords(await readFile(join(view.mountpoint, 'records.log')));
    expect(count).toBeGreaterThanOrEqual(syncedBeforeCut);
    expect(count).toBeLessThan(synced);
  });
});
