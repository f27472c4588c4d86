// part move: a partition and its data to another start, left and right, overlapping or not; judged by the
// filesystem's checker, file hashes, sfdisk, and the journal left behind (none).
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
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
