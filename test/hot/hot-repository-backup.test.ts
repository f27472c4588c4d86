// Hot backups into a repository: a snapshot of an attached volume whose ext4 stays mounted and written to goes into
// a repository, named after the origin, and restores to a filesystem the checker passes with every file synced before
// the cut; the scheduler's backup task does the same with `repo` and `hot`.
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mkfs, mount, run, sparseImage } from '../helpers/index.js';
import { schedulerHarness } from '../scheduler/harness.js';
import { hotAttach, hotHost } from './hot-volume.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Writes a file and fsyncs it; its SHA-256. */
function syncedFile(path: string, bytes: Uint8Array): string {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return sha256(bytes);
}

describe('hot backup into a repository', () => {
  it('puts a snapshot of a mounted volume in use into a repository; it restores to a clean filesystem holding every file synced before the cut', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(64 * MiB, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    await mkfs(volume.device, 'ext4');
    await using mounted = await mount(volume.device);
    const hashes = new Map<string, string>();
    for (let i = 0; i < 20; i++) hashes.set(`file-${i}`, syncedFile(join(mounted.mountpoint, `file-${i}`), randomBytes(64 * 1024 + i * 4096)));
    const passFile = join(hot.scratch, 'pass');
    await writeFile(passFile, 'hot repository\n');
    const repo = `file://${join(hot.scratch, 'repo')}`;
    const secret = { 'passphrase-file': passFile };
    await hot.host.executeCommand('shadowdisk.backup.repo-init', { positionals: [repo], options: { ...secret, 'kdf-cost': '10' } });
    // An application keeps appending while the backup runs: its own process, since the cut freezes the filesystem
    // and a write from this process would stall the very event loop that thaws it.
    const log = join(mounted.mountpoint, 'log');
    const writer = spawn('sh', ['-c', 'while :; do head -c 4096 /dev/urandom >> "$1"; sleep 0.005; done', 'writer', log], { stdio: 'ignore' });
    const writerDone = new Promise((resolve) => writer.on('exit', resolve));
    let data: { origin: string; repository: string; backup: { snapshot: string } };
    try {
      data = (await hot.host.executeCommand('shadowdisk.backup.image-backup', { positionals: [volume.device], options: { hot: true, repo, ...secret } })).data as typeof data;
    } finally {
      writer.kill('SIGKILL');
      await writerDone;
    }
    expect(statSync(log).size).toBeGreaterThan(0);
    expect(data).toMatchObject({ origin: volume.attachment.origin, repository: repo, backup: { snapshot: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    const status = (await hot.host.executeCommand('shadowdisk.hot-processing.status', {})).data as { attachments: { snapshot?: unknown }[] };
    expect(status.attachments[0]!.snapshot).toBeUndefined();
    const listed = (await hot.host.executeCommand('shadowdisk.backup.repo-list', { positionals: [repo], options: secret })).data as { snapshots: { id: string; source: string }[] };
    expect(listed.snapshots).toEqual([expect.objectContaining({ id: data.backup.snapshot, source: volume.attachment.origin })]);

    await using target = await sparseImage(64 * MiB, { dir: hot.scratch, name: 'restored.img' });
    await hot.host.executeCommand('shadowdisk.backup.image-restore', { positionals: [data.backup.snapshot, target.path], options: { repo, ...secret, yes: true } });
    const fsck = await run('e2fsck', ['-fn', target.path], { allowFailure: true });
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    await using loop = await loopDevice(target.path, { readOnly: true });
    await using restored = await mount(loop.path, { options: ['ro'] });
    for (const [name, hash] of hashes) expect(sha256(readFileSync(join(restored.mountpoint, name))), name).toBe(hash);
  });

  it('runs as the scheduler backup task with repo and hot', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(32 * MiB, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    await mkfs(volume.device, 'ext4');
    await using h = await schedulerHarness('2026-06-01T00:00:00Z', { host: hot.host });
    const passphraseFile = join(hot.scratch, 'pass');
    await writeFile(passphraseFile, 'scheduled hot repository\n');
    const repo = `file://${join(hot.scratch, 'repo')}`;
    await hot.host.executeCommand('shadowdisk.backup.repo-init', { positionals: [repo], options: { 'passphrase-file': passphraseFile, 'kdf-cost': '10' } });
    h.add('hot-repo', { task: 'shadowdisk.scheduler.backup', cron: '0 * * * *', timezone: 'UTC', params: JSON.stringify({ source: volume.device, repo, name: 'vol', passphraseFile, hot: true }) });
    h.clock.set('2026-06-01T01:00:00Z');
    const [first] = await h.services.scheduler.tick().done;
    expect(first, first?.log).toMatchObject({ status: 'succeeded' });
    expect(first!.log).toMatch(/Snapshot [0-9a-f]{32} of .* in file:\/\//);
    const listed = (await hot.host.executeCommand('shadowdisk.backup.repo-list', { positionals: [repo], options: { 'passphrase-file': passphraseFile } })).data as { snapshots: { source: string }[] };
    expect(listed.snapshots.map((s) => s.source)).toEqual(['vol']);
  });
});
