import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { basename } from 'node:path';
import { tmpdir } from 'node:os';
import { findLeaks, loopBackingFile, loopDevice, loopPartitionNodes, run, snapshotSystem, tempDir, type SystemSnapshot } from './index.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

const snapshot = (loops: [string, string][], mountpoints: string[]): SystemSnapshot => ({ loops: new Map(loops), mountpoints: new Set(mountpoints) });

describe('leak guard', () => {
  it('reports loop devices and mounts that appeared, and nothing that was there before', () => {
    const before = snapshot([['/dev/loop0', '/srv/a.img']], ['/', '/proc']);
    const after = snapshot([['/dev/loop0', '/srv/a.img'], ['/dev/loop1', '/tmp/b.img']], ['/', '/proc', '/tmp/mnt-x']);
    expect(findLeaks(before, after)).toEqual(['loop device /dev/loop1 (backing file /tmp/b.img) is still attached', '/tmp/mnt-x is still mounted']);
    expect(findLeaks(after, before)).toEqual([]);
  });

  it('counts only what lies under the scope, so another run on the machine is not this run\'s leak', () => {
    const after = snapshot([['/dev/loop1', '/tmp/run-a/b.img'], ['/dev/loop2', '/tmp/run-b/c.img']], ['/tmp/run-a/mnt', '/tmp/run-b/mnt', '/tmp/run-ab']);
    expect(findLeaks(snapshot([], []), after, ['/tmp/run-a'])).toEqual(['loop device /dev/loop1 (backing file /tmp/run-a/b.img) is still attached', '/tmp/run-a/mnt is still mounted']);
  });

  it('puts this run\'s scratch space under its own scope root', () => {
    expect(tmpdir()).toMatch(/\/shadowdisk-run-[^/]+$/);
  });

  it('counts a loop device reattached to another file as a leak', () => {
    expect(findLeaks(snapshot([['/dev/loop0', '/a.img']], []), snapshot([['/dev/loop0', '/b.img']], []))).toHaveLength(1);
  });

  it('sees a loop device attached after its snapshot', async () => {
    await using scratch = await tempDir();
    const image = join(scratch.path, 'leak.img');
    await run('truncate', ['-s', '8M', image]);
    const before = await snapshotSystem();
    const device = (await run('losetup', ['--find', '--show', image])).stdout.trim();
    try {
      expect(findLeaks(before, await snapshotSystem())).toContain(`loop device ${device} (backing file ${image}) is still attached`);
    } finally {
      await run('losetup', ['--detach', device]);
    }
    expect(findLeaks(before, await snapshotSystem()).some((l) => l.includes(image))).toBe(false);
  });

  it('fails a whole vitest run whose test leaks a loop device', async () => {
    await using scratch = await tempDir();
    const report = join(scratch.path, 'leaked-device');
    const vitest = join(repo, 'node_modules', 'vitest', 'vitest.mjs');
    const outcome = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [vitest, 'run', '--config', 'test/fixtures/leaky/vitest.config.ts'], { cwd: repo, env: { ...process.env, LEAK_REPORT: report } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    const [device, image] = (await readFile(report, 'utf8')).trim().split('\n') as [string, string];
    try {
      expect(outcome.code).not.toBe(0);
      expect(outcome.output).toContain(`loop device ${device} (backing file ${image}) is still attached`);
    } finally {
      if ((await loopBackingFile(device)) === image) await run('losetup', ['--detach', device]);
    }
  });
});

describe('leak guard and partition nodes', () => {
  it('reports partition nodes left on a detached loop device', () => {
    const before = { loops: new Map<string, string>(), loopPartitions: new Set<string>(), mountpoints: new Set<string>() };
    const after = { ...before, loopPartitions: new Set(['/dev/loop4p1']) };
    expect(findLeaks(before, after)).toEqual(['partition node /dev/loop4p1 is left on a detached loop device']);
  });

  it('takes down the partition nodes of its loop device when it is released', async () => {
    await using scratch = await tempDir();
    const image = join(scratch.path, 'parts.img');
    await run('truncate', ['-s', '32M', image]);
    await run('sfdisk', ['--quiet', image], { input: 'label: gpt\n,8MiB\n' });
    let device = '';
    {
      await using loop = await loopDevice(image);
      device = loop.path;
      await run('partx', ['--add', loop.path]);
      expect(await loopPartitionNodes(loop.path)).toEqual([`${basename(loop.path)}p1`]);
    }
    expect(await loopPartitionNodes(device)).toEqual([]);
  });
});
