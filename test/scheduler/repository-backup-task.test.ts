// The backup task type into a repository: each run is a snapshot, the second stores nothing new.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, sparseImage, tempDir } from '../helpers/index.js';
import { schedulerHarness } from './harness.js';

/** A scheduler harness, an ext4 image file to back up, a passphrase file and an initialised file:// repository. */
async function repositoryFixture() {
  const h = await schedulerHarness('2026-06-01T00:00:00Z');
  const scratch = await tempDir();
  const volume = await sparseImage(32 * 1024 * 1024);
  const dispose = async () => {
    await volume[Symbol.asyncDispose]();
    await scratch[Symbol.asyncDispose]();
    await h[Symbol.asyncDispose]();
  };
  try {
    await run('mkfs.ext4', ['-q', '-F', volume.path]);
    const passphraseFile = join(scratch.path, 'pass');
    await writeFile(passphraseFile, 'schedule secret\n');
    const repo = `file://${scratch.path}/repo`;
    await h.host.executeCommand('shadowdisk.backup.repo-init', { positionals: [repo], options: { 'passphrase-file': passphraseFile, 'kdf-cost': '10' } });
    return { h, volume, passphraseFile, repo, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

describe('the backup task type with a repository', () => {
  it('backs up into a repository on schedule, the second run adding no data, and refuses a task with neither folder nor repository', async () => {
    await using fixture = await repositoryFixture();
    const { h, volume, passphraseFile, repo } = fixture;
    h.add('nightly', { task: 'shadowdisk.scheduler.backup', cron: '0 2 * * *', timezone: 'UTC', params: JSON.stringify({ source: volume.path, repo, name: 'vol', passphraseFile }) });
    h.clock.set('2026-06-01T02:00:00Z');
    expect((await h.services.scheduler.tick().done)[0]).toMatchObject({ status: 'succeeded' });
    h.clock.set('2026-06-02T02:00:00Z');
    const [second] = await h.services.scheduler.tick().done;
    expect(second).toMatchObject({ status: 'succeeded' });
    expect(second!.log).toMatch(/Snapshot [0-9a-f]{32} of .* in file:\/\/.*: 0 bytes uploaded/);
    const listed = (await h.host.executeCommand('shadowdisk.backup.repo-list', { positionals: [repo], options: { 'passphrase-file': passphraseFile } })).data as { snapshots: { source: string }[] };
    expect(listed.snapshots.map((s) => s.source)).toEqual(['vol', 'vol']);
    h.add('nowhere', { task: 'shadowdisk.scheduler.backup', cron: '0 3 * * *', timezone: 'UTC', params: JSON.stringify({ source: volume.path }) });
    h.clock.set('2026-06-02T03:00:00Z');
    expect((await h.services.scheduler.tick().done)[0]).toMatchObject({ status: 'failed', errorCode: 'INVALID_ARGUMENT' });
  });

  it('applies the schedule\'s retention to its own source\'s snapshots in the repository, leaving other sources\' alone', async () => {
    await using fixture = await repositoryFixture();
    const { h, volume, passphraseFile, repo } = fixture;
    const secret = { 'passphrase-file': passphraseFile };
    // Three snapshots of another source (another schedule's, say): this schedule's keep-last 2 must not thin them.
    for (let i = 0; i < 3; i++) await h.host.executeCommand('shadowdisk.backup.image-backup', { positionals: [volume.path], options: { repo, ...secret, 'source-name': 'other' } });
    h.add('nightly', { task: 'shadowdisk.scheduler.backup', cron: '0 2 * * *', timezone: 'UTC', 'keep-last': '2', params: JSON.stringify({ source: volume.path, repo, name: 'vol', passphraseFile }) });
    const runs = [];
    for (const day of ['01', '02', '03']) {
      h.clock.set(`2026-06-${day}T02:00:00Z`);
      runs.push((await h.services.scheduler.tick().done)[0]!);
      await new Promise((r) => setTimeout(r, 20)); // snapshot times must differ for "newest"
    }
    for (const r of runs) expect(r).toMatchObject({ status: 'succeeded' });
    expect(runs[0]!.log).toContain("Retention of 'vol' in file://");
    expect(runs[2]!.log).toMatch(/Retention of 'vol' in file:\/\/.* forgot 1 snapshot\(s\)/);
    const listed = (await h.host.executeCommand('shadowdisk.backup.repo-list', { positionals: [repo], options: secret })).data as { snapshots: { source: string }[] };
    expect(listed.snapshots.map((s) => s.source).sort()).toEqual(['other', 'other', 'other', 'vol', 'vol']);
    expect((await h.host.executeCommand('shadowdisk.backup.repo-check', { positionals: [repo], options: { ...secret, 'read-data-subset': '100%' } })).data).toMatchObject({ ok: true, snapshots: 5 });
    // The retention task type over the repository: the other source thinned to its newest, this schedule's untouched.
    h.add('thin-other', { task: 'shadowdisk.scheduler.retention', cron: '0 4 * * *', timezone: 'UTC', params: JSON.stringify({ repo, name: 'other', keepLast: 1, passphraseFile }) });
    h.clock.set('2026-06-03T04:00:00Z');
    const [thinned] = await h.services.scheduler.tick().done;
    expect(thinned, thinned?.log).toMatchObject({ status: 'succeeded' });
    expect(thinned!.log).toContain("Retention of 'other' in file://");
    const after = (await h.host.executeCommand('shadowdisk.backup.repo-list', { positionals: [repo], options: secret })).data as { snapshots: { source: string }[] };
    expect(after.snapshots.map((s) => s.source).sort()).toEqual(['other', 'vol', 'vol']);
    h.add('neither', { task: 'shadowdisk.scheduler.retention', cron: '0 5 * * *', timezone: 'UTC', params: JSON.stringify({ name: 'other', keepLast: 1 }) });
    h.clock.set('2026-06-03T05:00:00Z');
    expect((await h.services.scheduler.tick().done)[0]).toMatchObject({ status: 'failed', errorCode: 'INVALID_ARGUMENT' });
  });
});
