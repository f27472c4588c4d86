import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loopDevice, mkfs, mount, sparseImage } from '../test/helpers/index.js';
import { freezeFilesystem, isNativeError, syncFilesystem, thawFilesystem } from './index.js';

const MiB = 1024 * 1024;
const HOLD_MS = 600;

// A separate process, so that its blocked write cannot stall this test: it prints when it starts and when write+fsync returned.
const WRITER = `
const fs = require('node:fs');
console.log('started ' + Date.now());
const fd = fs.openSync(process.argv[1], 'r+');
fs.writeSync(fd, Buffer.alloc(65536, 0x5a), 0, 65536, 0);
fs.fsyncSync(fd);
fs.closeSync(fd);
console.log('finished ' + Date.now());
`;

describe('freezeFilesystem', () => {
  it('holds a writer process on a frozen ext4 filesystem until thawFilesystem, then lets it finish', async () => {
    await using image = await sparseImage(64 * MiB);
    await using loop = await loopDevice(image.path);
    await mkfs(loop.path, 'ext4');
    await using fs = await mount(loop.path);
    const target = join(fs.mountpoint, 'written-while-frozen.bin');
    writeFileSync(target, '');

    freezeFilesystem(fs.mountpoint);
    let frozen = true;
    const writer = spawn(process.execPath, ['-e', WRITER, target], { stdio: ['ignore', 'pipe', 'pipe'] });
    const times = new Map<string, number>();
    let output = '';
    writer.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const [, event, at] of output.matchAll(/(started|finished) (\d+)/g)) times.set(event!, Number(at));
    });
    writer.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => writer.once('exit', resolve));
    try {
      expect(() => freezeFilesystem(fs.mountpoint)).toThrow(expect.objectContaining({ code: 'EBUSY', syscall: 'ioctl(FIFREEZE)' }));
      await waitFor(() => times.has('started'), 5000, () => `writer did not start: ${output}`);
      await sleep(HOLD_MS);
      expect(times.has('finished'), 'the writer finished its write+fsync while the filesystem was frozen').toBe(false);
      const thawedAt = Date.now();
      thawFilesystem(fs.mountpoint);
      frozen = false;
      await waitFor(() => times.has('finished'), 5000, () => `writer did not finish after the thaw: ${output}`);
      expect(await exited).toBe(0);
      const startedAt = times.get('started')!;
      const finishedAt = times.get('finished')!;
      console.log(`FIFREEZE held the writer for ${finishedAt - startedAt} ms; thawed ${thawedAt - startedAt} ms after it started, it finished ${finishedAt - thawedAt} ms after the thaw`);
      expect(finishedAt).toBeGreaterThanOrEqual(thawedAt);
      expect(finishedAt - startedAt).toBeGreaterThanOrEqual(HOLD_MS);
    } finally {
      if (frozen) thawFilesystem(fs.mountpoint);
      if (writer.exitCode === null && writer.signalCode === null) {
        writer.kill('SIGKILL');
        await exited;
      }
    }
  });

  it('refuses to thaw a filesystem that is not frozen with EINVAL', async () => {
    await using image = await sparseImage(32 * MiB);
    await using loop = await loopDevice(image.path);
    await mkfs(loop.path, 'ext4');
    await using fs = await mount(loop.path);
    let caught: unknown;
    try {
      thawFilesystem(fs.mountpoint);
    } catch (error) {
      caught = error;
    }
    expect(isNativeError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'EINVAL', syscall: 'ioctl(FITHAW)', path: fs.mountpoint });
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(explain());
    await sleep(10);
  }
}

describe('syncFilesystem', () => {
  it("writes a filesystem's dirty data to its device: the loop device's count of written sectors grows by the file", async () => {
    await using image = await sparseImage(64 * MiB);
    await using loop = await loopDevice(image.path);
    await mkfs(loop.path, 'ext4');
    await using fs = await mount(loop.path);
    // /sys/block/loopN/stat: field 7 is sectors written.
    const sectorsWritten = () => Number(readFileSync(`/sys/block/${loop.path.replace('/dev/', '')}/stat`, 'utf8').trim().split(/\s+/)[6]);
    syncFilesystem(fs.mountpoint);
    writeFileSync(join(fs.mountpoint, 'dirty.bin'), Buffer.alloc(4 * MiB, 0x77));
    const before = sectorsWritten();
    syncFilesystem(fs.mountpoint);
    expect(sectorsWritten() - before).toBeGreaterThanOrEqual((4 * MiB) / 512);
    expect(() => syncFilesystem(join(fs.mountpoint, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
