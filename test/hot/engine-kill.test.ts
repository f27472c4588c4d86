// kill -9 of the engine: I/O to the attached device fails at once (EIO) instead of waiting forever, detach still
// works, and a re-attach serves what was written before the kill.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { allocAligned, DirectFile } from '../../native/index.js';
import { sparseImage } from '../helpers/index.js';
import { hotAttach, hotHost } from './hot-volume.js';
import { BLOCK, readStamp, stampBlock } from './sector-stamp.js';

const DEADLINE_MS = 8000;

function withinDeadline<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${DEADLINE_MS} ms`)), DEADLINE_MS)));
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

describe('engine killed', () => {
  it('fails I/O with EIO within a deadline after kill -9, detaches, and re-attaches with the data written before', async () => {
    await using hot = await hotHost();
    const blocks = 1024;
    await using image = await sparseImage(blocks * BLOCK, { dir: hot.scratch });
    const written = allocAligned(blocks * BLOCK);
    for (let b = 0; b < blocks; b++) stampBlock(written.subarray(b * BLOCK, (b + 1) * BLOCK), b, 7);
    {
      await using volume = await hotAttach(hot, image.path);
      {
        using file = DirectFile.open(volume.device, 'r+');
        await file.write(written, 0n);
        process.kill(volume.attachment.pid, 'SIGKILL');
        await withinDeadline('a write after the kill', expect(file.write(written.subarray(0, BLOCK), 0n)).rejects.toMatchObject({ code: 'EIO' }));
        await withinDeadline('a read after the kill', expect(file.read(allocAligned(BLOCK), 0n)).rejects.toMatchObject({ code: 'EIO' }));
      }
      const status = await hot.host.executeCommand('shadowdisk.hot-processing.status', { options: { json: true } });
      expect((status.data as { attachments: { engine: object }[] }).attachments[0]!.engine).toMatchObject({ error: expect.stringContaining('Cannot reach') });
      await withinDeadline('detach', hot.host.executeCommand('shadowdisk.hot-processing.detach', { positionals: [volume.device] }));
    }
    await using again = await hotAttach(hot, image.path);
    using file = DirectFile.open(again.device, 'r');
    const back = allocAligned(blocks * BLOCK);
    await file.read(back, 0n);
    const seqs = new Set<number>();
    for (let b = 0; b < blocks; b++) seqs.add(readStamp(back.subarray(b * BLOCK, (b + 1) * BLOCK), b));
    expect([...seqs]).toEqual([7]);
  });

  it.each(['auto', 'dev-fuse'] as const)('aborts a stopped engine after --watchdog seconds: I/O fails with EIO instead of waiting forever, and the volume re-attaches (%s)', async (transport) => {
    await using hot = await hotHost();
    await using image = await sparseImage(1024 * BLOCK, { dir: hot.scratch });
    const block = allocAligned(BLOCK);
    stampBlock(block, 0, 3);
    {
      await using volume = await hotAttach(hot, image.path, { watchdog: '2', transport });
      using file = DirectFile.open(volume.device, 'r+');
      await file.write(block, 0n);
      process.kill(volume.attachment.pid, 'SIGSTOP');
      try {
        const started = Date.now();
        await withinDeadline('a write to a stopped engine', expect(file.write(block, BigInt(BLOCK))).rejects.toMatchObject({ code: 'EIO' }));
        expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      } finally {
        // If the watchdog failed, this lets the write finish (and the test fail) instead of hanging the run.
        try {
          process.kill(volume.attachment.pid, 'SIGCONT');
        } catch {
          // already gone: the watchdog killed it
        }
      }
      // The watchdog logs after it has aborted and killed, so the EIO can reach us a moment before its line does.
      const logged = /watchdog: engine \d+ gave no sign of progress for 2 s; aborted its FUSE connection \d+ and killed it/;
      let log = '';
      for (const until = Date.now() + 3000; !logged.test(log) && Date.now() < until; await new Promise((r) => setTimeout(r, 50))) log = await readFile(volume.attachment.logPath, 'utf8');
      expect(log).toMatch(logged);
    }
    await using again = await hotAttach(hot, image.path);
    using file = DirectFile.open(again.device, 'r');
    const back = allocAligned(BLOCK);
    await file.read(back, 0n);
    expect(readStamp(back, 0)).toBe(3);
  });
});
