// Bad input to the repository commands gets a named error and changes nothing (local repositories, in-process host).
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost } from '../../core/node/index.js';
import { run, sparseImage, tempDir, tempStateDir } from '../helpers/index.js';

describe('repository commands on bad input', () => {
  it('name the problem (existing repository, wrong passphrase, unknown scheme, bad subset, unknown snapshot, bad S3 profile) and write nothing', async () => {
    await using state = await tempStateDir();
    await using scratch = await tempDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    const pass = join(scratch.path, 'pass');
    const wrong = join(scratch.path, 'wrong');
    await writeFile(pass, 'right one\n');
    await writeFile(wrong, 'wrong one\n');
    const repo = join(scratch.path, 'repo');
    const exec = (id: string, positionals: string[], options: Record<string, string | boolean> = {}) => host.executeCommand(`shadowdisk.backup.${id}`, { positionals, options: { 'passphrase-file': pass, ...options } });
    const failure = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        return error as { code: string; message: string };
      }
      throw new Error('expected the command to fail');
    };
    await exec('repo-init', [repo], { 'kdf-cost': '10' });
    const objects = async () => (await readdir(repo, { recursive: true })).sort();
    const before = await objects();
    expect(await failure(exec('repo-init', [repo], { 'kdf-cost': '10' }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('already holds a repository') });
    expect(await failure(exec('repo-list', [repo], { 'passphrase-file': wrong }))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(await failure(exec('repo-list', ['ftp://host/repo']))).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining("'ftp://'") });
    expect(await failure(exec('repo-check', [repo], { 'read-data-subset': '150%' }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining("'150%'") });
    expect(await failure(exec('repo-list', ['s3://bucket/prefix?profile=missing']))).toMatchObject({ code: 'SETTING_INVALID', message: expect.stringContaining("'missing'") });
    await using volume = await sparseImage(16 * 1024 * 1024);
    await run('mkfs.ext4', ['-q', '-F', volume.path]);
    await using target = await sparseImage(16 * 1024 * 1024);
    expect(await failure(host.executeCommand('shadowdisk.backup.image-restore', { positionals: ['0123abcd', target.path], options: { repo, 'passphrase-file': pass, yes: true } }))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("No snapshot '0123abcd'") });
    expect(await failure(host.executeCommand('shadowdisk.backup.image-backup', { positionals: [volume.path], options: { repo, 'passphrase-file': wrong } }))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(await objects()).toEqual(before);
  });
});
