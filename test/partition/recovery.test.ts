// Interrupted applies: found by their journal, rolled back before the table was written, finished after.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { JournalStore, type ApplyJournal } from '../../plugins/partition/ops/apply-journal.js';
import { layoutToJson } from '../../plugins/partition/ops/layout-json.js';
import { captureTableBackup } from '../../plugins/partition/ops/table-backup.js';
import { DiskHandle } from '../../plugins/partition/io/disk-handle.js';
import { readDiskTable } from '../../plugins/partition/table/partition-table.js';
import { isShadowError } from '../../sdk/index.js';
import { ownedMount, run, sparseImage, tempDir, tempStateDir } from '../helpers/index.js';

const MiB = 1024 * 1024;
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
const cmd = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.partition.part-${verb}`, { positionals, options });

async function gptImage(): Promise<Awaited<ReturnType<typeof sparseImage>>> {
  const image = await sparseImage(64 * MiB);
  await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\n,16MiB,L\n,16MiB,S\n' });
  return image;
}

describe('apply journal', () => {
  it('rolls back an apply interrupted before the table was fully written, and refuses new applies until then', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await gptImage();
    const original = await sha(image.path);
    // An apply that died half-way: the backup and journal exist, the table sectors hold half-written garbage.
    const journals = new JournalStore(join(state.path, 'plugins', 'shadowdisk.partition', 'journal'));
    const backupFile = join(state.path, 'table.bin');
    {
      using disk = DiskHandle.open(image.path, 'r+');
      const table = readDiskTable(disk.read, disk.geometry);
      await writeFile(backupFile, captureTableBackup(image.path, disk.geometry, disk.read, table.tableRanges));
      const journal: ApplyJournal = { version: 1, disk: image.path, startedAt: new Date().toISOString(), state: 'backup-saved', backupFile, target: layoutToJson(table.layout!), dataSteps: [] };
      journals.save(journal);
      disk.write([{ lba: 1, bytes: new Uint8Array(512).fill(0xa5) }]);
    }
    expect(await sha(image.path)).not.toBe(original);
    await cmd(host, 'create', [image.path], { size: '8MiB' }).catch(() => undefined);
    const refused = await cmd(host, 'apply', [image.path], { yes: true }).catch((e: unknown) => e);
    expect(isShadowError(refused, 'RECOVERY_NEEDED')).toBe(true);

    const result = await cmd(host, 'recover', [image.path], { yes: true });
    expect(result.data).toMatchObject({ recovered: true, action: 'rolled-back' });
    expect(await sha(image.path)).toBe(original);
    expect(journals.load(image.path)).toBeUndefined();
  });

  it('finishes an apply interrupted after the table was written, running the data steps left', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await gptImage();
    const journals = new JournalStore(join(state.path, 'plugins', 'shadowdisk.partition', 'journal'));
    using disk = DiskHandle.open(image.path, 'r');
    const layout = readDiskTable(disk.read, disk.geometry).layout!;
    journals.save({
      version: 1, disk: image.path, startedAt: new Date().toISOString(), state: 'kernel-updated', backupFile: join(state.path, 'unused.bin'),
      target: layoutToJson(layout), dataSteps: [{ operation: { op: 'format', number: 1, fs: 'ext4', label: 'finished' }, done: false }],
    });
    const result = await cmd(host, 'recover', [image.path], { yes: true });
    expect(result.data).toMatchObject({ recovered: true, action: 'rolled-forward' });
    const probe = await run('blkid', ['-p', '-O', String(2048 * 512), '-s', 'LABEL', '-o', 'value', image.path]);
    expect(probe.stdout.trim()).toBe('finished');
  });
});

describe('part repair and restore-table under the journal', () => {
  it('leaves a journal when a repair dies mid-write (ENOSPC), which part recover rolls back; refuses while an apply is unfinished', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using scratch = await tempDir();
    // A tiny tmpfs holding the disk image: the damaged primary GPT is a punched hole, and once the tmpfs is full,
    // rewriting it fails with ENOSPC after the journal and the table backup (in the state dir) were saved.
    const small = join(scratch.path, 'small');
    await mkdir(small);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small]);
    await using _mounted = ownedMount(small, 'tmpfs');
    const path = join(small, 'disk.img');
    await run('truncate', ['-s', '64M', path]);
    await run('sfdisk', ['--quiet', path], { input: 'label: gpt\n,16MiB,L\n' });
    await run('fallocate', ['--punch-hole', '--offset', '0', '--length', String(64 * 1024), path]);
    const before = await sha(path);
    expect((await cmd(host, 'show', [path])).data).toMatchObject({ damaged: expect.arrayContaining(['primary']) });
    await run('sh', ['-c', 'dd if=/dev/zero of="$1" bs=64k 2>/dev/null || true', 'fill', join(small, 'filler')]);
    const failed = await cmd(host, 'repair', [path], { yes: true }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    const journals = new JournalStore(join(state.path, 'plugins', 'shadowdisk.partition', 'journal'));
    expect(journals.load(path)).toMatchObject({ state: 'backup-saved', dataSteps: [] });
    // Until recovered, another repair is refused before writing anything.
    expect(isShadowError(await cmd(host, 'repair', [path], { yes: true }).catch((e: unknown) => e), 'RECOVERY_NEEDED')).toBe(true);
    await rm(join(small, 'filler'));
    const result = await cmd(host, 'recover', [path], { yes: true });
    expect(result.data).toMatchObject({ recovered: true, action: 'rolled-back' });
    expect(await sha(path)).toBe(before);
    expect(journals.load(path)).toBeUndefined();
    // With room again, the repair goes through and leaves no journal.
    await cmd(host, 'repair', [path], { yes: true });
    expect((await run('sgdisk', ['-v', path])).stdout).toContain('No problems found');
    expect(journals.load(path)).toBeUndefined();
  });
});

describe('part repair, backup and restore-table', () => {
  it('rewrites a damaged primary GPT from the backup copy, judged by sgdisk -v', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await gptImage();
    const original = await sha(image.path);
    const bytes = await readFile(image.path);
    bytes[512 + 60] = bytes[512 + 60]! ^ 0xff; // inside the primary header's disk GUID: its CRC no longer matches
    await writeFile(image.path, bytes);
    expect((await run('sgdisk', ['-v', image.path], { allowFailure: true })).stdout).not.toContain('No problems found');
    const shown = await cmd(host, 'show', [image.path]);
    expect((shown.data as { damaged: string[] }).damaged).toEqual(['primary']);
    await cmd(host, 'repair', [image.path], { yes: true });
    expect((await run('sgdisk', ['-v', image.path])).stdout).toContain('No problems found');
    expect(await sha(image.path)).toBe(original);
  });

  it('restores table sectors saved by part backup, and refuses a tampered backup before writing', async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await gptImage();
    const original = await sha(image.path);
    const file = join(state.path, 'table.bak');
    await cmd(host, 'backup', [image.path, file]);
    await run('sfdisk', ['--quiet', '--wipe', 'always', image.path], { input: 'label: dos\n,8MiB,83\n' });
    const tampered = join(state.path, 'tampered.bak');
    const backup = await readFile(file);
    backup[backup.length - 1] = backup[backup.length - 1]! ^ 1;
    await writeFile(tampered, backup);
    const changed = await sha(image.path);
    const error = await cmd(host, 'restore-table', [image.path, tampered], { yes: true }).catch((e: unknown) => e);
    expect(isShadowError(error, 'IMAGE_TAMPERED')).toBe(true);
    expect(await sha(image.path)).toBe(changed);
    await cmd(host, 'restore-table', [image.path, file], { yes: true });
    expect((await run('sgdisk', ['-v', image.path])).stdout).toContain('No problems found');
    expect(await sha(image.path)).not.toBe(changed);
    expect((await cmd(host, 'show', [image.path])).data).toMatchObject({ table: 'gpt' });
    void original;
  });
});
