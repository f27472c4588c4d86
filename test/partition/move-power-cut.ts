// Power cuts during overlapping moves (one test file per kind runs these): the disk is a testdisk that keeps only
// what was flushed; the power goes at a seeded random write of the move, the disk comes back (under another loop
// device), `part recover` finishes the move, and the partition must hold exactly its old bytes at its new place: e2fsck
// clean and every file's SHA-256 unchanged (files read by debugfs straight from the image).
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { powerCutDisk, prng, run, sparseImage, tempDir, tempStateDir } from '../helpers/index.js';
import { filesystemWithFiles, judgeExt4InImage, rangeSha, type FileHashes } from './move-fixtures.js';

const MiB = 1024 * 1024;
const TRIALS = Number(process.env['SHADOWDISK_MOVE_CUT_TRIALS'] ?? 20);
const part = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.partition.part-${verb}`, { positionals, options });

interface Kind {
  name: string;
  startMiB: number;
  sizeMiB: number;
  /** The shift of each trial (may depend on the trial, to cover both directions). */
  shiftMiB: (trial: number) => number;
  stepSize?: string;
}

const KINDS: Kind[] = [
  { name: 'left, overlapping (shift = step = 4 MiB)', startMiB: 20, sizeMiB: 12, shiftMiB: () => -4 },
  { name: 'right, overlapping (shift = step = 4 MiB)', startMiB: 4, sizeMiB: 12, shiftMiB: () => 4 },
  { name: 'shift (1 MiB) smaller than the copy step (4 MiB), left and right', startMiB: 12, sizeMiB: 12, shiftMiB: (t) => (t % 2 ? -1 : 1), stepSize: '4MiB' },
];

async function startOf(image: string): Promise<number> {
  const json = JSON.parse((await run('sfdisk', ['--json', image])).stdout) as { partitiontable: { partitions: { start: number }[] } };
  return json.partitiontable.partitions[0]!.start * 512;
}

/** One move on a testdisk over `image`, with the power cut at write `cutAt` of it (or none); returns the writes it made. */
async function moveWithCut(host: ShadowdiskHost, image: string, kind: Kind, trial: number, cutAt: number | undefined): Promise<{ writes: number; failed: boolean }> {
  // Small write requests: more points at which the power can go, inside steps as well as between them.
  await using disk = await powerCutDisk(image, { cutPersist: trial % 2 ? 'random' : 'none', seed: trial + 1, maxWriteBytes: 128 * 1024 });
  await part(host, 'move', [disk.device, '1'], { by: `${kind.shiftMiB(trial)}MiB`, ...(kind.stepSize ? { 'step-size': kind.stepSize } : {}) });
  const before = (await disk.status()).writes;
  if (cutAt !== undefined) await disk.cutAfterWrites(cutAt);
  const failed = await part(host, 'apply', [disk.device], { yes: true }).then(() => false, () => true);
  if (failed) {
    await disk.stopped();
    return { writes: 0, failed };
  }
  return { writes: (await disk.status()).writes - before, failed };
}

/** Every other trial goes through `shadowdisk recover <disk>` instead of `part recover <disk>`. */
async function recoverAfterCut(host: ShadowdiskHost, image: string, trial: number): Promise<Record<string, unknown>> {
  await using disk = await powerCutDisk(image);
  if (trial % 2 === 0) return (await part(host, 'recover', [disk.device], { yes: true })).data as Record<string, unknown>;
  const all = (await host.executeCommand('shadowdisk.partition.recover', { positionals: [disk.device], options: { yes: true } })).data;
  return all as Record<string, unknown>;
}

/** The trials of one kind of move; each kind is its own test file, so the three run side by side. */
export function powerCutTrials(k: number): void {
  const kind = KINDS[k]!;
  it(`recovers every one of ${TRIALS} power cuts at random writes of a ${kind.name} move, files unchanged`, { timeout: 30_000 + TRIALS * 6_000 }, async () => {
    await using scratch = await tempDir();
    const pristine = join(scratch.path, 'pristine.img');
    await using image = await sparseImage(48 * MiB, { dir: scratch.path, name: 'pristine.img' });
    await run('sfdisk', ['--quiet', image.path], { input: `label: gpt\nstart=${kind.startMiB * 2048},size=${kind.sizeMiB * 2048},type=L\n` });
    const hashes: FileHashes = await filesystemWithFiles(pristine, kind.startMiB * MiB, kind.sizeMiB * MiB, 'ext4', 100 + k, 16, 1024 * 1024);
    const bytesSha = await rangeSha(pristine, kind.startMiB * MiB, kind.sizeMiB * MiB);

    // An uncut run tells how many writes a move makes; cuts are drawn from them.
    const trialImage = join(scratch.path, 'trial.img');
    await copyFile(pristine, trialImage);
    // One host and state folder for all trials: each recovery must leave no journal behind for the next.
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    const calibration = await moveWithCut(host, trialImage, kind, 0, undefined);
    expect(calibration.failed).toBe(false);
    expect(calibration.writes).toBeGreaterThan(3);

    const random = prng(1000 + k);
    const outcomes: string[] = [];
    let matched = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      await copyFile(pristine, trialImage);
      let cutAt = 1 + Math.floor(random() * calibration.writes);
      const t0 = Date.now();
      let cut = await moveWithCut(host, trialImage, kind, trial, cutAt);
      // The count of write requests varies a little between runs (how the kernel splits them): a cut drawn past the
      // end of this run's writes never came, and the move finished. Draw again within this run's count.
      for (let redraw = 0; !cut.failed && redraw < 3; redraw++) {
        console.log(`trial ${trial}: this move made ${cut.writes} writes, fewer than the cut at ${cutAt}; drawing again`);
        await copyFile(pristine, trialImage);
        cutAt = 1 + Math.floor(random() * cut.writes);
        cut = await moveWithCut(host, trialImage, kind, trial, cutAt);
      }
      expect(cut.failed, `trial ${trial}: the cut at write ${cutAt} of ${calibration.writes} stopped the apply`).toBe(true);
      const t1 = Date.now();
      const recovered = await recoverAfterCut(host, trialImage, trial);
      const t2 = Date.now();
      const start = await startOf(trialImage);
      const expectedStart = (kind.startMiB + kind.shiftMiB(trial)) * MiB;
      const sameBytes = (await rangeSha(trialImage, start, kind.sizeMiB * MiB)) === bytesSha;
      const judged = await judgeExt4InImage(trialImage, start);
      const ok = start === expectedStart && sameBytes && judged.clean && JSON.stringify(judged.hashes) === JSON.stringify(hashes);
      if (ok) matched++;
      if (process.env['SHADOWDISK_MOVE_CUT_TIMES']) console.log(`trial ${trial}: cut ${t1 - t0} ms, recover ${t2 - t1} ms, judge ${Date.now() - t2} ms`);
      outcomes.push(`cut at write ${cutAt}/${calibration.writes} (${trial % 2 ? 'random keep' : 'drop all'}): ${String(recovered['action'] ?? 'no journal')}, ${ok ? 'ok' : `MISMATCH start ${start} bytes ${sameBytes} fsck ${judged.clean}`}`);
    }
    console.log(`move power-cut trials, ${kind.name}: ${TRIALS} trials, ${matched} with every file hash matching\n  ${outcomes.join('\n  ')}`);
    expect(matched).toBe(TRIALS);
  });
}
