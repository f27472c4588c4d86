// part copy --to: a partition copied into free space of another disk, queued in that disk's plan and applied there
// under its journal; judged by the checkers, every file's SHA-256, sfdisk --verify, new filesystem ids and the source
// disk unchanged. A busy source or a source table that changed since queueing is refused with the target unchanged.
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { isShadowError } from '../../sdk/index.js';
import { loopDevice, mount, run, sparseImage, tempStateDir } from '../helpers/index.js';
import { fatWithFiles, judgeFat } from './fat-fixtures.js';
import { fileSha, filesystemWithFiles, judgeFilesystem, type FileHashes } from './move-fixtures.js';

const MiB = 1024 * 1024;
const part = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.partition.part-${verb}`, { positionals, options });
const uuidOf = async (image: string, startMiB: number) => (await run('blkid', ['-p', '-O', String(startMiB * MiB), '-s', 'UUID', '-o', 'value', image])).stdout.trim();

/** A host; a GPT source disk with ext4 (1 MiB) and NTFS (40 MiB) of 32 MiB and FAT32 (80 MiB) of 40 MiB, full of files; an MBR target disk. */
async function twoDisks() {
  const stack = new AsyncDisposableStack();
  try {
    const state = stack.use(await tempStateDir());
    const host = stack.use(await createHost({ stateDir: state.path, logSink: () => undefined }));
    const sourceImage = stack.use(await sparseImage(128 * MiB));
    const msdata = 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7';
    await run('sfdisk', ['--quiet', sourceImage.path], { input: `label: gpt\nstart=1MiB,size=32MiB,type=L\nstart=40MiB,size=32MiB,type=${msdata}\nstart=80MiB,size=40MiB,type=${msdata}\n` });
    const hashes: Record<'ext4' | 'ntfs' | 'vfat', FileHashes> = {
      ext4: await filesystemWithFiles(sourceImage.path, MiB, 32 * MiB, 'ext4', 61, 8, 512 * 1024),
      ntfs: await filesystemWithFiles(sourceImage.path, 40 * MiB, 32 * MiB, 'ntfs', 62, 8, 512 * 1024),
      vfat: await fatWithFiles(sourceImage.path, 80 * MiB, 40 * MiB, 32, 64, 1),
    };
    const targetImage = stack.use(await sparseImage(160 * MiB));
    await run('sfdisk', ['--quiet', targetImage.path], { input: 'label: dos\nstart=1MiB,size=8MiB,type=83\n' });
    const source = stack.use(await loopDevice(sourceImage.path));
    const target = stack.use(await loopDevice(targetImage.path));
    await part(host, 'rescan', [source.path]);
    await part(host, 'rescan', [target.path]);
    return { host, sourceImage, targetImage, source, target, hashes, [Symbol.asyncDispose]: () => stack.disposeAsync() };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

describe('part copy --to another disk', () => {
  it('copies ext4, NTFS and FAT32 from a GPT disk into free space of an MBR disk; checkers clean, files equal, new ids, hidden sectors at the new start, source unchanged', { timeout: 90_000 }, async () => {
    await using d = await twoDisks();
    const sourceBefore = await fileSha(d.sourceImage.path);
    await part(d.host, 'copy', [d.source.path, '1'], { to: d.target.path, start: '20MiB' });
    const queued = await part(d.host, 'copy', [d.source.path, '2'], { to: d.target.path, start: '100MiB' });
    await part(d.host, 'copy', [d.source.path, '3'], { to: d.target.path, start: '56MiB' });
    expect(queued.text).toContain(`copy partition 2 of ${d.source.path}`);
    await part(d.host, 'apply', [d.target.path], { yes: true });

    await run('sfdisk', ['--verify', d.target.path]);
    const table = JSON.parse((await run('sfdisk', ['--json', d.target.path])).stdout) as { partitiontable: { partitions: { start: number; size: number; type: string }[] } };
    // The GPT types as MBR names them: Linux 83, Microsoft basic data 7; the existing partition kept.
    expect(table.partitiontable.partitions.map(({ start, size, type }) => ({ start, size, type })).sort((a, b) => a.start - b.start)).toEqual([
      { start: 2048, size: 16384, type: '83' }, { start: 20 * 2048, size: 32 * 2048, type: '83' }, { start: 56 * 2048, size: 40 * 2048, type: '7' }, { start: 100 * 2048, size: 32 * 2048, type: '7' },
    ]);
    const fat = await judgeFat(d.targetImage.path, 56 * MiB, 40 * MiB);
    expect(fat.clean, fat.output).toBe(true);
    expect(fat.hashes).toEqual(d.hashes.vfat);
    // Its boot sector and FAT32's backup name the new start (fsck.fat compares the two).
    expect(fat.boot).toMatchObject({ fatBits: 32, hiddenSectors: 56 * 2048 });
    expect(fat.serial).not.toBe((await judgeFat(d.sourceImage.path, 80 * MiB, 40 * MiB)).serial);
    for (const [fs, fromMiB, toMiB] of [['ext4', 1, 20], ['ntfs', 40, 100]] as const) {
      const judged = await judgeFilesystem(d.targetImage.path, toMiB * MiB, 32 * MiB, fs);
      expect(judged.clean, `${fs} copy: ${judged.output}`).toBe(true);
      expect(judged.hashes).toEqual(d.hashes[fs]);
      expect(await uuidOf(d.targetImage.path, toMiB), `${fs} copy has a new id`).not.toBe(await uuidOf(d.sourceImage.path, fromMiB));
    }
    expect(await fileSha(d.sourceImage.path)).toBe(sourceBefore);
  });

  it('refuses a mounted source, a source whose table changed since queueing, and a copy to its own disk under another name, with the target unchanged', { timeout: 60_000 }, async () => {
    await using d = await twoDisks();
    const targetBefore = await fileSha(d.targetImage.path);
    await part(d.host, 'copy', [d.source.path, '1'], { to: d.target.path, start: '20MiB' });
    {
      await using mounted = await mount(`${d.source.path}p1`, { options: ['ro'] });
      const busy = await part(d.host, 'apply', [d.target.path], { yes: true }).catch((e: unknown) => e);
      expect(isShadowError(busy, 'TARGET_BUSY'), String(busy)).toBe(true);
      expect((busy as Error).message).toContain(mounted.mountpoint);
    }
    // The source's partition 1 grows after the copy was queued: the copy would be the wrong size.
    await run('sfdisk', ['--quiet', '-N', '1', d.source.path], { input: ',+\n' });
    const stale = await part(d.host, 'apply', [d.target.path], { yes: true }).catch((e: unknown) => e);
    expect(isShadowError(stale, 'PLAN_STALE'), String(stale)).toBe(true);
    expect((stale as Error).message).toMatch(/copied from, changed since the copy was queued/);
    expect(await fileSha(d.targetImage.path)).toBe(targetBefore);
    // Its own disk, by its name or by the image file behind its loop device.
    for (const to of [d.source.path, d.sourceImage.path]) {
      await part(d.host, 'copy', [d.source.path, '1'], { to, start: '80MiB' }).then(
        () => expect.fail(`a copy --to ${to} (its own disk) was queued`),
        (e: unknown) => expect(isShadowError(e, 'INVALID_ARGUMENT') && /the disk being copied from/.test(String(e)), String(e)).toBe(true),
      );
    }
  });

  it('finishes a copy to another disk cancelled after its first step, through shadowdisk recover', { timeout: 60_000 }, async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using sourceImage = await sparseImage(256 * MiB);
    await using targetImage = await sparseImage(256 * MiB);
    await run('sfdisk', ['--quiet', sourceImage.path], { input: 'label: gpt\nstart=1MiB,size=160MiB,type=L\n' });
    await run('sfdisk', ['--quiet', targetImage.path], { input: 'label: gpt\nstart=1MiB,size=8MiB,type=L\n' });
    // 160 MiB: three steps of 64 MiB, so a cancel after the first leaves the copy half done.
    const hashes = await filesystemWithFiles(sourceImage.path, MiB, 160 * MiB, 'ext4', 63, 6, 256 * 1024);
    await using source = await loopDevice(sourceImage.path);
    await using target = await loopDevice(targetImage.path);
    await part(host, 'copy', [source.path, '1'], { to: target.path, start: '64MiB' });
    const cancel = new AbortController();
    const cancelled = await host.executeCommand('shadowdisk.partition.part-apply', { positionals: [target.path], options: { yes: true } }, {
      signal: cancel.signal,
      progress: (update) => { if (update.phase === 'move partition 2' && update.done >= 64 * MiB) cancel.abort(); },
    }).catch((e: unknown) => e);
    expect(isShadowError(cancelled, 'ABORTED'), String(cancelled)).toBe(true);
    // The source is still to be read: changes to its disk wait for the recovery.
    await part(host, 'delete', [source.path, '1']);
    const waiting = await part(host, 'apply', [source.path], { yes: true }).catch((e: unknown) => e);
    expect(isShadowError(waiting, 'RECOVERY_NEEDED'), String(waiting)).toBe(true);
    await part(host, 'plan-clear', [source.path]);
    const recovered = await host.executeCommand('shadowdisk.partition.recover', { positionals: [], options: { yes: true } });
    expect(recovered.data).toMatchObject({ recovered: [{ disk: target.path, state: 'moving', outcome: { action: 'rolled-forward' } }] });
    await run('sfdisk', ['--verify', target.path]);
    const judged = await judgeFilesystem(targetImage.path, 64 * MiB, 160 * MiB, 'ext4');
    expect(judged.clean, judged.output).toBe(true);
    expect(judged.hashes).toEqual(hashes);
    expect(await uuidOf(targetImage.path, 64)).not.toBe(await uuidOf(sourceImage.path, 1));
  });
});
