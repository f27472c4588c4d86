// part move: a partition and its data to another start, left and right, overlapping or not; judged by the
// filesystem's checker, file hashes, sfdisk, and the journal left behind (none).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { captureIo } from '../../core/node/cli/capture-io.js';
import { main } from '../../core/node/cli/main.js';
import { isShadowError } from '../../sdk/index.js';
import { loopDevice, run, sparseImage, tempStateDir } from '../helpers/index.js';
import { filesystemWithFiles, judgeFilesystem } from './move-fixtures.js';

const MiB = 1024 * 1024;
const part = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.partition.part-${verb}`, { positionals, options });
const sfdiskStart = async (disk: string, n: number) => {
  const json = JSON.parse((await run('sfdisk', ['--json', disk])).stdout) as { partitiontable: { partitions: { node: string; start: number }[] } };
  return json.partitiontable.partitions.find((p) => p.node.endsWith(String(n)))!.start;
};

describe('part move', () => {
  it('moves an ext4 partition right past itself, then left overlapping itself, on a loop device; files and e2fsck unchanged', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await sparseImage(96 * MiB);
    await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\nstart=2048,size=40960,type=L\n' });
    const hashes = await filesystemWithFiles(image.path, MiB, 20 * MiB, 'ext4', 1);
    await using disk = await loopDevice(image.path);

    await part(host, 'move', [disk.path, '1'], { start: '40MiB' });
    const dry = await part(host, 'apply', [disk.path], { 'dry-run': true });
    expect(dry.data).toMatchObject({ moves: [{ partition: 1, srcBytes: MiB, dstBytes: 40 * MiB, lengthBytes: 20 * MiB, stepBytes: 64 * MiB }] });
    await part(host, 'apply', [disk.path], { yes: true });
    expect(await sfdiskStart(disk.path, 1)).toBe(40 * 2048);
    let judged = await judgeFilesystem(image.path, 40 * MiB, 20 * MiB, 'ext4');
    expect(judged.clean).toBe(true);
    expect(judged.hashes).toEqual(hashes);

    await part(host, 'move', [disk.path, '1'], { by: '-7MiB' });
    await part(host, 'apply', [disk.path], { yes: true });
    expect(await sfdiskStart(disk.path, 1)).toBe(33 * 2048);
    judged = await judgeFilesystem(image.path, 33 * MiB, 20 * MiB, 'ext4');
    expect(judged.clean).toBe(true);
    expect(judged.hashes).toEqual(hashes);
    expect((await run('sgdisk', ['-v', disk.path])).stdout).toContain('No problems found');
    expect((await part(host, 'recover', [disk.path], { yes: true })).data).toMatchObject({ recovered: false });
  });

  it('moves XFS, btrfs (logical), NTFS (logical) and vfat partitions of an MBR disk in one apply; checkers clean, files and NTFS hidden sectors right', { timeout: 120_000 }, async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await sparseImage(1024 * MiB);
    const p = (n: number) => `${image.path}${n}`;
    await run('sfdisk', ['--quiet', image.path], {
      input: `label: dos\n${p(1)} : start=1MiB, size=64MiB, type=83\n${p(2)} : start=400MiB, size=550MiB, type=5\n${p(3)} : start=980MiB, size=20MiB, type=c\n${p(5)} : start=402MiB, size=128MiB, type=83\n${p(6)} : start=600MiB, size=32MiB, type=7\n`,
    });
    const cases = [
      { n: 1, fs: 'xfs', fromMiB: 1, toMiB: 41, sizeMiB: 64 },
      { n: 5, fs: 'btrfs', fromMiB: 402, toMiB: 422, sizeMiB: 128 },
      { n: 6, fs: 'ntfs', fromMiB: 600, toMiB: 580, sizeMiB: 32 },
      { n: 3, fs: 'vfat', fromMiB: 980, toMiB: 972, sizeMiB: 20 },
    ] as const;
    const hashes = new Map<number, Record<string, string>>();
    for (const c of cases) hashes.set(c.n, await filesystemWithFiles(image.path, c.fromMiB * MiB, c.sizeMiB * MiB, c.fs, c.n, 10, 256 * 1024));
    await using disk = await loopDevice(image.path);
    for (const c of cases) await part(host, 'move', [disk.path, String(c.n)], { start: `${c.toMiB}MiB` });
    await part(host, 'apply', [disk.path], { yes: true });
    expect((await run('sfdisk', ['--verify', disk.path])).code).toBe(0);
    for (const c of cases) {
      expect(await sfdiskStart(disk.path, c.n)).toBe(c.toMiB * 2048);
      const judged = await judgeFilesystem(image.path, c.toMiB * MiB, c.sizeMiB * MiB, c.fs);
      expect(judged.clean, `${c.fs}: ${judged.output}`).toBe(true);
      expect(judged.hashes).toEqual(hashes.get(c.n));
    }
    // NTFS boot sectors (primary and the backup at the volume's end) name the new start, as Windows' boot code needs.
    const bytes = await readFile(image.path);
    const boot = bytes.subarray(580 * MiB, 580 * MiB + 512);
    const backupAt = 580 * MiB + Number(boot.readBigUInt64LE(0x28)) * 512;
    expect(boot.readUInt32LE(0x1c)).toBe(580 * 2048);
    expect(bytes.readUInt32LE(backupAt + 0x1c)).toBe(580 * 2048);
  });

  it('refuses a move onto a neighbour and a move of a partition the plan creates, writing nothing', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await sparseImage(64 * MiB);
    await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\nstart=2048,size=20480,type=L\nstart=22528,size=20480,type=L\n' });
    const onNeighbour = await part(host, 'move', [image.path, '1'], { start: '4MiB' }).catch((e: unknown) => e);
    expect(isShadowError(onNeighbour, 'SIZE_MISMATCH')).toBe(true);
    await part(host, 'create', [image.path], { size: '4MiB' });
    await part(host, 'move', [image.path, '3'], { by: '8MiB' });
    const created = await part(host, 'apply', [image.path], { yes: true }).catch((e: unknown) => e);
    expect(isShadowError(created, 'INVALID_ARGUMENT')).toBe(true);
    expect((created as Error).message).toMatch(/created in this plan/);
  });
});

describe('part copy', () => {
  it('copies ext4 (GPT), and XFS, btrfs, NTFS and vfat (MBR, logicals into the extended partition) into free space; checkers clean, files equal, new filesystem ids', { timeout: 120_000 }, async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    const uuidOf = async (image: string, startMiB: number) => (await run('blkid', ['-p', '-O', String(startMiB * MiB), '-s', 'UUID', '-o', 'value', image])).stdout.trim();
    for (const table of ['gpt', 'mbr'] as const) {
      await using image = await sparseImage(1536 * MiB);
      const cases = table === 'gpt'
        ? [{ n: 1, fs: 'ext4', fromMiB: 1, toMiB: 100, sizeMiB: 24 }] as const
        : [{ n: 1, fs: 'xfs', fromMiB: 1, toMiB: 330, sizeMiB: 64 }, { n: 5, fs: 'btrfs', fromMiB: 702, toMiB: 1010, sizeMiB: 260 }, { n: 6, fs: 'ntfs', fromMiB: 970, toMiB: 1280, sizeMiB: 20 }, { n: 7, fs: 'vfat', fromMiB: 995, toMiB: 1510, sizeMiB: 4 }] as const;
      const p = (n: number) => `${image.path}${n}`;
      await run('sfdisk', ['--quiet', image.path], {
        input: table === 'gpt' ? 'label: gpt\nstart=1MiB,size=24MiB,type=L\n'
          : `label: dos\n${p(1)} : start=1MiB, size=64MiB, type=83\n${p(2)} : start=700MiB, size=800MiB, type=5\n${p(5)} : start=702MiB, size=260MiB, type=83\n${p(6)} : start=970MiB, size=20MiB, type=7\n${p(7)} : start=995MiB, size=4MiB, type=c\n`,
      });
      const hashes = new Map<number, Record<string, string>>();
      for (const c of cases) hashes.set(c.n, await filesystemWithFiles(image.path, c.fromMiB * MiB, c.sizeMiB * MiB, c.fs, 40 + c.n, 6, 256 * 1024));
      await using disk = await loopDevice(image.path);
      for (const c of cases) await part(host, 'copy', [disk.path, String(c.n)], { start: `${c.toMiB}MiB` });
      await part(host, 'apply', [disk.path], { yes: true });
      expect((await run(table === 'gpt' ? 'sgdisk' : 'sfdisk', table === 'gpt' ? ['-v', disk.path] : ['--verify', disk.path])).code).toBe(0);
      for (const c of cases) {
        for (const at of [c.fromMiB, c.toMiB]) {
          const judged = await judgeFilesystem(image.path, at * MiB, c.sizeMiB * MiB, c.fs);
          expect(judged.clean, `${c.fs} at ${at} MiB: ${judged.output}`).toBe(true);
          expect(judged.hashes).toEqual(hashes.get(c.n));
        }
        expect(await uuidOf(image.path, c.toMiB), `${c.fs} copy has a new id`).not.toBe(await uuidOf(image.path, c.fromMiB));
      }
    }
  });
});

describe('move progress', () => {
  it('reports the move through the job model at least once a second, with a rate and an ETA (CLI --json)', { timeout: 60_000 }, async () => {
    await using state = await tempStateDir();
    const previousHome = process.env['SHADOWDISK_HOME'];
    process.env['SHADOWDISK_HOME'] = state.path;
    try {
      await using image = await sparseImage(700 * MiB);
      await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\nstart=1MiB,size=320MiB,type=L\n' });
      // Written blocks (not holes), so the copy reads and writes the medium.
      await run('dd', ['if=/dev/zero', `of=${image.path}`, 'bs=1M', 'seek=1', 'count=320', 'conv=notrunc', 'status=none']);
      await using disk = await loopDevice(image.path, { directIo: true });
      const cli = async (...argv: string[]) => {
        const io = captureIo();
        const code = await main(argv, io);
        return { code, err: io.err() };
      };
      expect((await cli('part', 'move', disk.path, '1', '--start', '360MiB', '--json')).code).toBe(0);
      const started = Date.now();
      const applied = await cli('part', 'apply', disk.path, '--yes', '--json');
      const elapsed = Date.now() - started;
      expect(applied.code).toBe(0);
      const events = applied.err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; phase?: string; done?: number; total?: number; bytesPerSec?: number; etaSec?: number | null })
        .filter((e) => e.type === 'progress' && e.phase === 'move partition 1');
      expect(events.length, `${elapsed} ms of apply`).toBeGreaterThanOrEqual(Math.floor(elapsed / 1000));
      expect(events.at(-1)).toMatchObject({ done: 320 * MiB, total: 320 * MiB });
      expect(events.some((e) => (e.bytesPerSec ?? 0) > 0 && typeof e.etaSec === 'number')).toBe(true);
    } finally {
      if (previousHome === undefined) delete process.env['SHADOWDISK_HOME'];
      else process.env['SHADOWDISK_HOME'] = previousHome;
    }
  });
});

describe('shadowdisk recover', () => {
  it('finishes a move cancelled half-way (Ctrl-C) found in the state directory, with no disk named, and reports it', { timeout: 60_000 }, async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await sparseImage(96 * MiB);
    await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\nstart=2048,size=65536,type=L\n' });
    const hashes = await filesystemWithFiles(image.path, MiB, 32 * MiB, 'ext4', 9, 12, 1024 * 1024);
    await using disk = await loopDevice(image.path);
    await part(host, 'move', [disk.path, '1'], { by: '2MiB' });
    const cancel = new AbortController();
    const cancelled = await host.executeCommand('shadowdisk.partition.part-apply', { positionals: [disk.path], options: { yes: true } }, {
      signal: cancel.signal,
      // Cancel once the first of the 2 MiB steps is written: the journal is left at 'moving'.
      progress: (update) => { if (update.phase === 'move partition 1' && update.done >= 2 * MiB) cancel.abort(); },
    }).catch((e: unknown) => e);
    expect(isShadowError(cancelled, 'ABORTED'), String(cancelled)).toBe(true);
    const refused = await part(host, 'apply', [disk.path], { yes: true }).catch((e: unknown) => e);
    expect(isShadowError(refused, 'RECOVERY_NEEDED')).toBe(true);
    const recovered = await host.executeCommand('shadowdisk.partition.recover', { positionals: [], options: { yes: true } });
    expect(recovered.data).toMatchObject({ recovered: [{ disk: disk.path, state: 'moving', outcome: { action: 'rolled-forward' } }] });
    expect(recovered.text).toContain(`${disk.path} (interrupted at 'moving'): rolled-forward`);
    expect(await sfdiskStart(disk.path, 1)).toBe(3 * 2048);
    const judged = await judgeFilesystem(image.path, 3 * MiB, 32 * MiB, 'ext4');
    expect(judged.clean).toBe(true);
    expect(judged.hashes).toEqual(hashes);
    expect((await host.executeCommand('shadowdisk.partition.recover', { positionals: [], options: { yes: true } })).text).toMatch(/Nothing to recover/);
  });
});
