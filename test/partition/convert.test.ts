// part convert: MBR → GPT and back with starts, sizes and types kept, judged by sgdisk -v, sfdisk --verify and the
// files of a filesystem inside; layouts the other table cannot hold refused with a named error and nothing written.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { isShadowError } from '../../sdk/index.js';
import { loopDevice, run, sparseImage, tempStateDir } from '../helpers/index.js';
import { filesystemWithFiles, judgeFilesystem } from './move-fixtures.js';

const MiB = 1024 * 1024;
const part = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.partition.part-${verb}`, { positionals, options });
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
interface SfdiskPartition { start: number; size: number; type: string }
const sfdiskPartitions = async (disk: string) =>
  (JSON.parse((await run('sfdisk', ['--json', disk])).stdout) as { partitiontable: { label: string; partitions: SfdiskPartition[] } }).partitiontable;
const geometryOf = (ps: SfdiskPartition[]) => ps.map((p) => `${p.start}+${p.size}`).sort();

describe('part convert', () => {
  it('converts MBR with logicals to GPT and back, keeping starts, sizes, types and a filesystem with its files', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await sparseImage(128 * MiB);
    const p = (n: number) => `${image.path}${n}`;
    await run('sfdisk', ['--quiet', image.path], {
      input: `label: dos\n${p(1)} : start=1MiB, size=16MiB, type=83, bootable\n${p(2)} : start=17MiB, size=8MiB, type=82\n${p(3)} : start=32MiB, size=80MiB, type=5\n${p(5)} : start=34MiB, size=20MiB, type=83\n${p(6)} : start=60MiB, size=16MiB, type=7\n`,
    });
    const hashes = await filesystemWithFiles(image.path, 34 * MiB, 20 * MiB, 'ext4', 11, 8, 256 * 1024);
    const mbrBefore = (await sfdiskPartitions(image.path)).partitions.filter((x) => x.type !== '5');
    await using disk = await loopDevice(image.path);

    await part(host, 'convert', [disk.path, 'gpt']);
    await part(host, 'apply', [disk.path], { yes: true });
    expect((await run('sgdisk', ['-v', disk.path])).stdout).toContain('No problems found');
    const gpt = await sfdiskPartitions(disk.path);
    expect(gpt.label).toBe('gpt');
    expect(geometryOf(gpt.partitions)).toEqual(geometryOf(mbrBefore));
    expect(gpt.partitions.map((x) => x.type)).toEqual(['0FC63DAF-8483-4772-8E79-3D69D8477DE4', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', '0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7']);
    expect((await run('sgdisk', ['-A', '1:show', disk.path])).stdout).toMatch(/legacy BIOS bootable/);

    await part(host, 'convert', [disk.path, 'mbr']);
    await part(host, 'apply', [disk.path], { yes: true });
    expect((await run('sfdisk', ['--verify', disk.path])).code).toBe(0);
    const mbr = await sfdiskPartitions(disk.path);
    expect(mbr.label).toBe('dos');
    expect(geometryOf(mbr.partitions)).toEqual(geometryOf(mbrBefore));
    expect(mbr.partitions.map((x) => x.type)).toEqual(['83', '82', '83', '7']);
    const judged = await judgeFilesystem(image.path, 34 * MiB, 20 * MiB, 'ext4');
    expect(judged.clean).toBe(true);
    expect(judged.hashes).toEqual(hashes);
  });

  it('puts a fifth GPT partition and later ones into an extended partition, one EBR sector before each', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await sparseImage(64 * MiB);
    await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\n' + [1, 9, 17, 25, 33, 41].map((m) => `start=${m}MiB,size=7MiB,type=L\n`).join('') });
    const before = (await sfdiskPartitions(image.path)).partitions;
    await part(host, 'convert', [image.path, 'mbr']);
    await part(host, 'apply', [image.path], { yes: true });
    expect((await run('sfdisk', ['--verify', image.path])).code).toBe(0);
    const after = (await sfdiskPartitions(image.path)).partitions.filter((x) => x.type !== '5');
    expect(geometryOf(after)).toEqual(geometryOf(before));
  });

  it('turns a primary next to the extended partition into a logical and the last logical into a primary, data in place', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await sparseImage(64 * MiB);
    const p = (n: number) => `${image.path}${n}`;
    await run('sfdisk', ['--quiet', image.path], {
      input: `label: dos\n${p(1)} : start=1MiB, size=8MiB, type=83\n${p(2)} : start=10MiB, size=10MiB, type=83\n${p(3)} : start=20MiB, size=40MiB, type=5\n${p(5)} : start=21MiB, size=9MiB, type=83\n${p(6)} : start=31MiB, size=9MiB, type=82\n${p(7)} : start=41MiB, size=9MiB, type=7\n`,
    });
    const hashes = await filesystemWithFiles(image.path, 10 * MiB, 10 * MiB, 'ext4', 21, 6, 256 * 1024);
    const before = (await sfdiskPartitions(image.path)).partitions.filter((x) => x.type !== '5');
    await using disk = await loopDevice(image.path);
    const middle = await part(host, 'set', [disk.path, '6', 'role', 'primary']).catch((e: unknown) => e);
    expect(isShadowError(middle, 'SIZE_MISMATCH'), String(middle)).toBe(true);
    await part(host, 'set', [disk.path, '2', 'role', 'logical']);
    await part(host, 'apply', [disk.path], { yes: true });
    await part(host, 'set', [disk.path, '8', 'role', 'primary']);
    await part(host, 'apply', [disk.path], { yes: true });
    expect((await run('sfdisk', ['--verify', disk.path])).code).toBe(0);
    const table = (await sfdiskPartitions(disk.path)).partitions as (SfdiskPartition & { node: string })[];
    const after = table.filter((x) => x.type !== '5');
    expect(geometryOf(after)).toEqual(geometryOf(before));
    const extended = table.find((x) => x.type === '5')!;
    expect(extended.start).toBe(10 * 2048 - 1);
    expect(extended.start + extended.size).toBe(40 * 2048);
    expect(table.find((x) => x.start === 10 * 2048)!.node).toMatch(/5$/);
    expect(table.find((x) => x.start === 41 * 2048)!.node).toMatch(/2$/);
    const judged = await judgeFilesystem(image.path, 10 * MiB, 10 * MiB, 'ext4');
    expect(judged.clean).toBe(true);
    expect(judged.hashes).toEqual(hashes);
  });

  it('refuses what the other table cannot hold, writing nothing', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using tight = await sparseImage(32 * MiB);
    await run('sfdisk', ['--quiet', tight.path], { input: 'label: dos\nstart=2,size=20000,type=83\n' });
    await using crowded = await sparseImage(32 * MiB);
    await run('sfdisk', ['--quiet', crowded.path], { input: 'label: gpt\n' + [1, 3, 5, 7, 9].map((m) => `start=${m}MiB,size=2MiB,type=L\n`).join('') });
    await using named = await sparseImage(32 * MiB);
    await run('sfdisk', ['--quiet', named.path], { input: 'label: gpt\nstart=1MiB,size=8MiB,type=L,name=data\n' });
    for (const [image, table, code, message] of [[tight, 'gpt', 'SIZE_MISMATCH', /headers and entry arrays/], [crowded, 'mbr', 'SIZE_MISMATCH', /no free sector before it for its EBR/], [named, 'mbr', 'UNSUPPORTED', /MBR has no names/]] as const) {
      const before = await sha(image.path);
      const refused = await part(host, 'convert', [image.path, table]).catch((e: unknown) => e);
      expect(isShadowError(refused, code), String(refused)).toBe(true);
      expect((refused as Error).message).toMatch(message);
      expect(await sha(image.path)).toBe(before);
    }
  });
});
