// The sector-stamp oracle (issue 6): a writer rewrites random ranges of an attached volume with stamped blocks while
// snapshots are taken; each snapshot must equal the volume after exactly the writes before its cut.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allocAligned, DirectFile } from '../../native/index.js';
import { prng, sparseImage } from '../helpers/index.js';
import { hotAttach, hotHost } from './hot-volume.js';
import { applyWrite, BLOCK, matchCut, readStamp, stampBlock, type StampWrite } from './sector-stamp.js';

const VOLUME_BLOCKS = 8192; // 32 MiB
// CI runs 50; `npm run bench:hot-oracle` runs 1,000 (SHADOWDISK_ORACLE_TRIALS).
const TRIALS = Number(process.env['SHADOWDISK_ORACLE_TRIALS'] ?? 50);
const MAX_WRITE_BLOCKS = 32;

/** Reads a whole device and returns each block's stamp. */
async function readStamps(device: string, blocks: number): Promise<Int32Array> {
  const seen = new Int32Array(blocks);
  using file = DirectFile.open(device, 'r');
  const window = allocAligned(1024 * 1024);
  const perWindow = window.length / BLOCK;
  for (let first = 0; first < blocks; first += perWindow) {
    await file.read(window, BigInt(first * BLOCK));
    for (let k = 0; k < perWindow && first + k < blocks; k++) seen[first + k] = readStamp(window.subarray(k * BLOCK, (k + 1) * BLOCK), first + k);
  }
  return seen;
}

// Where the kernel has FUSE over io_uring (CONFIG_FUSE_IO_URING), the engine must be using it: the oracle then judges
// the ring path, and a slice of trials judges libfuse's /dev/fuse threads, the fallback.
const KERNEL_RINGS = existsSync('/sys/module/fuse/parameters/enable_uring');

describe('sector-stamp oracle', () => {
  it.each([
    { transport: 'auto', trials: TRIALS },
    { transport: 'dev-fuse', trials: Math.min(TRIALS, 10) },
  ] as const)('keeps each of $trials snapshots taken under a random writer equal to the volume at its cut, in both directions ($transport)', async ({ transport, trials: TRIALS }) => {
    await using hot = await hotHost();
    await using image = await sparseImage(VOLUME_BLOCKS * BLOCK, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path, { transport });
    expect((await volume.client.status()).transport).toBe(transport === 'auto' && KERNEL_RINGS ? 'io_uring' : 'dev-fuse');
    const random = prng(6);
    const log: StampWrite[] = [];
    let completed = 0;
    let stop = false;
    const writer = (async () => {
      using file = DirectFile.open(volume.device, 'r+');
      const buffer = allocAligned(MAX_WRITE_BLOCKS * BLOCK);
      while (!stop) {
        const blockCount = 1 + Math.floor(random() * MAX_WRITE_BLOCKS);
        const firstBlock = Math.floor(random() * (VOLUME_BLOCKS - blockCount + 1));
        const write = { seq: log.length + 1, firstBlock, blockCount };
        for (let k = 0; k < blockCount; k++) stampBlock(buffer.subarray(k * BLOCK, (k + 1) * BLOCK), firstBlock + k, write.seq);
        log.push(write);
        await file.write(buffer.subarray(0, blockCount * BLOCK), BigInt(firstBlock * BLOCK));
        completed = log.length;
      }
    })();
    const failures: string[] = [];
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        await new Promise((r) => setTimeout(r, random() * 20));
        const low = completed;
        const created = await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-create', { positionals: [volume.device] });
        const high = log.length;
        const device = (created.data as { snapshot: { device: string } }).snapshot.device;
        // Read while the writer goes on: nothing it writes from now on may show through.
        const seen = await readStamps(device, VOLUME_BLOCKS);
        await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-delete', { positionals: [volume.device] });
        const torn = seen.filter((s) => s < 0).length;
        const match = matchCut(seen, log, low, high);
        if (torn > 0 || !('cut' in match)) failures.push(`trial ${trial}: ${torn} damaged blocks; ${'cut' in match ? 'cut matched' : `${match.mismatches} blocks differ, ${match.explanation}`}`);
      }
    } finally {
      stop = true;
      await writer;
    }
    expect(failures).toEqual([]);
    expect(log.length).toBeGreaterThan(TRIALS * 5);
    // The volume itself holds every write, in order.
    const final = new Int32Array(VOLUME_BLOCKS);
    for (const w of log) applyWrite(final, w);
    expect(Array.from(await readStamps(volume.device, VOLUME_BLOCKS))).toEqual(Array.from(final));
   }, Math.max(60_000, TRIALS * 1000));

  it('keeps snapshots exact under four concurrent writers, each cut a prefix of every writer\'s writes', async () => {
    const WRITERS = 4;
    const REGION = VOLUME_BLOCKS / WRITERS;
    await using hot = await hotHost();
    await using image = await sparseImage(VOLUME_BLOCKS * BLOCK, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    const random = prng(64);
    // Each writer owns a region; its log holds region-relative blocks, so each region is judged on its own.
    const logs: StampWrite[][] = Array.from({ length: WRITERS }, () => []);
    const completed = new Array<number>(WRITERS).fill(0);
    let stop = false;
    const writers = logs.map(async (log, w) => {
      using file = DirectFile.open(volume.device, 'r+');
      const buffer = allocAligned(MAX_WRITE_BLOCKS * BLOCK);
      while (!stop) {
        const blockCount = 1 + Math.floor(random() * MAX_WRITE_BLOCKS);
        const firstBlock = Math.floor(random() * (REGION - blockCount + 1));
        const write = { seq: log.length + 1, firstBlock, blockCount };
        for (let k = 0; k < blockCount; k++) stampBlock(buffer.subarray(k * BLOCK, (k + 1) * BLOCK), w * REGION + firstBlock + k, write.seq);
        log.push(write);
        await file.write(buffer.subarray(0, blockCount * BLOCK), BigInt((w * REGION + firstBlock) * BLOCK));
        completed[w] = log.length;
      }
    });
    const failures: string[] = [];
    try {
      for (let trial = 0; trial < 20; trial++) {
        await new Promise((r) => setTimeout(r, random() * 20));
        const low = [...completed];
        const created = await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-create', { positionals: [volume.device] });
        const high = logs.map((log) => log.length);
        const device = (created.data as { snapshot: { device: string } }).snapshot.device;
        const seen = await readStamps(device, VOLUME_BLOCKS);
        await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-delete', { positionals: [volume.device] });
        for (let w = 0; w < WRITERS; w++) {
          const region = seen.subarray(w * REGION, (w + 1) * REGION);
          const match = matchCut(region, logs[w]!, low[w]!, high[w]!);
          const torn = region.filter((s) => s < 0).length;
          if (torn > 0 || !('cut' in match)) failures.push(`trial ${trial}, writer ${w}: ${torn} damaged blocks; ${'cut' in match ? 'cut matched' : `${match.mismatches} blocks differ, ${match.explanation}`}`);
        }
      }
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    expect(failures).toEqual([]);
    expect(logs.every((log) => log.length > 20)).toBe(true);
  });
});
