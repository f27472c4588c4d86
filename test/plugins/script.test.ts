import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, run, sparseImage } from '../helpers/index.js';
import { cliJson as cli, usePluginTestFolders } from './plugin-packages.js';

const folders = usePluginTestFolders();
const MiB = 1024 * 1024;
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

const script = `// A GPT, two partitions, each formatted, applied in one go.
export default async function (sd) {
  const [disk] = sd.args;
  await sd.cli('part', 'plan', 'clear', disk);
  await sd.cli('part', 'create-table', disk, 'gpt');
  await sd.cli('part', 'create', disk, '--size', '32MiB', '--name', 'first');
  await sd.cli('part', 'create', disk, '--size', '48MiB', '--name', 'second');
  await sd.cli('part', 'format', disk, '1', 'ext4', '--label', 'alpha');
  await sd.cli('part', 'format', disk, '2', 'vfat', '--label', 'BETA');
  const applied = await sd.cli('part', 'apply', disk, '--yes');
  return { dryRun: sd.dryRun, applied: applied.dryRun === true ? 'planned' : 'written' };
}
`;

describe('script run', () => {
  it('makes a GPT with two formatted partitions: the dry run writes nothing, the real run passes sfdisk --verify', async () => {
    await using image = await sparseImage(128 * MiB);
    await using loop = await loopDevice(image.path);
    const file = join(folders.work.path, 'two-partitions.js');
    await writeFile(file, script);
    const before = await sha(image.path);

    const dry = await cli('script', 'run', file, loop.path, '--dry-run');
    expect(dry.code, JSON.stringify(dry.json)).toBe(0);
    expect(dry.json).toMatchObject({ dryRun: true, result: { dryRun: true, applied: 'planned' } });
    expect((dry.json['calls'] as { command: string; dryRun: boolean }[]).map((c) => [c.command, c.dryRun])).toEqual([
      ['part plan clear', false], ['part create-table', false], ['part create', false], ['part create', false], ['part format', false], ['part format', false], ['part apply', true],
    ]);
    expect(await sha(image.path)).toBe(before);

    const real = await cli('script', 'run', file, loop.path);
    expect(real.code, JSON.stringify(real.json)).toBe(0);
    expect(real.json).toMatchObject({ dryRun: false, result: { dryRun: false, applied: 'written' } });
    expect(await sha(image.path)).not.toBe(before);
    await run('sfdisk', ['--verify', loop.path]);
    const { stdout } = await run('sfdisk', ['--json', loop.path]);
    const table = (JSON.parse(stdout) as { partitiontable: { label: string; partitions: { size: number; name: string }[] } }).partitiontable;
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p) => [p.name, p.size * 512])).toEqual([['first', 32 * MiB], ['second', 48 * MiB]]);
    expect((await run('blkid', ['-s', 'LABEL', '-o', 'value', `${loop.path}p1`])).stdout.trim()).toBe('alpha');
    expect((await run('blkid', ['-s', 'TYPE', '-o', 'value', `${loop.path}p1`])).stdout.trim()).toBe('ext4');
    expect((await run('blkid', ['-s', 'TYPE', '-o', 'value', `${loop.path}p2`])).stdout.trim()).toBe('vfat');
    await run('e2fsck', ['-fn', `${loop.path}p1`]);
  });

  it('refuses, under --dry-run, a disk-changing command that has no dry run, before it runs', async () => {
    const file = join(folders.work.path, 'restore.js');
    await writeFile(file, `export default async function (sd) { await sd.cli('part', 'restore-table', '/dev/null', '/nonexistent'); }\n`);
    const { code, json } = await cli('script', 'run', file, '--dry-run');
    expect(code).toBe(7);
    expect(json.error).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining("'part restore-table' changes disks and has no --dry-run, so it was not run") });
  });
});
