import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createHost } from '../../core/node/index.js';
import { schedulerHarness } from '../scheduler/harness.js';
import { cliJson as cli, npmPackFolder, traversableStateDir, usePluginTestFolders } from './plugin-packages.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const folders = usePluginTestFolders();
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('examples/image-mirror', () => {
  it('packs, installs, runs on a schedule (copy the newest images, prune the mirror), shows its view data, and uninstalls without a trace', async () => {
    await using source = await traversableStateDir();
    await using target = await traversableStateDir();
    await chmod(source.path, 0o755);
    await chmod(target.path, 0o777);
    const day = 86_400_000;
    const image = async (name: string, ageDays: number) => {
      await writeFile(join(source.path, name), randomBytes(64 * 1024));
      const when = new Date(Date.UTC(2026, 10, 1) - ageDays * day);
      await utimes(join(source.path, name), when, when);
    };
    for (const [i, age] of [5, 4, 3, 2, 1].entries()) await image(`disk-${i}.sdimg`, age);
    await writeFile(join(source.path, 'notes.txt'), 'not an image');

    const file = await npmPackFolder(join(examples, 'image-mirror'), folders.work.path);
    expect((await cli('plugin', 'install', file, '--yes')).json).toMatchObject({ id: 'acme.image-mirror', runsAs: 'unprivileged', contributions: { commands: ['acme.image-mirror.status'], views: ['acme.image-mirror.images'], taskTypes: ['acme.image-mirror.mirror'] } });
    expect(((await cli('commands')).json['commands'] as { id: string }[]).map((c) => c.id)).toContain('acme.image-mirror.status');
    expect(((await cli('schedule', 'types')).json['taskTypes'] as { id: string }[]).map((t) => t.id)).toContain('acme.image-mirror.mirror');

    const params = JSON.stringify({ source: source.path, target: target.path, keep: 3 });
    expect((await cli('schedule', 'add', 'mirror', '--task', 'acme.image-mirror.mirror', '--cron', '30 3 * * *', '--params', params)).code).toBe(0);
    const first = await cli('schedule', 'run-now', 'mirror');
    expect(first.code, JSON.stringify(first.json)).toBe(0);
    expect(readdirSync(target.path).sort()).toEqual(['disk-2.sdimg', 'disk-3.sdimg', 'disk-4.sdimg']);
    for (const name of readdirSync(target.path)) expect(await sha(join(target.path, name))).toBe(await sha(join(source.path, name)));

    await image('disk-5.sdimg', 0);
    expect((await cli('schedule', 'run-now', 'mirror')).code).toBe(0);
    expect(readdirSync(target.path).sort()).toEqual(['disk-3.sdimg', 'disk-4.sdimg', 'disk-5.sdimg']);
    const history = (await cli('schedule', 'history', 'mirror')).json['runs'] as { status: string; bytes: number }[];
    expect(history.map((r) => [r.status, r.bytes])).toEqual([['succeeded', 64 * 1024], ['succeeded', 3 * 64 * 1024]]);

    // As the daemon runs it: the scheduler's tick at the next 03:30 (its clock moved there) runs the isolated task type.
    await image('disk-6.sdimg', -1);
    {
      await using host = await createHost({ stateDir: folders.state.path, logSink: () => undefined });
      await using h = await schedulerHarness(new Date().toISOString(), { host });
      const next = new Date();
      next.setUTCHours(3, 30, 0, 0);
      if (next.getTime() <= Date.now()) next.setUTCDate(next.getUTCDate() + 1);
      h.clock.set(next.getTime() + 5_000);
      const runs = await h.services.scheduler.tick().done;
      expect(runs.map((r) => ({ scheduleId: r.scheduleId, trigger: r.trigger, dueAt: r.dueAt, status: r.status }))).toEqual([
        { scheduleId: 'mirror', trigger: 'schedule', dueAt: next.getTime(), status: 'succeeded' },
      ]);
    }
    expect(readdirSync(target.path).sort()).toEqual(['disk-4.sdimg', 'disk-5.sdimg', 'disk-6.sdimg']);

    const status = (await cli('mirror', 'status', target.path)).json as { images: { name: string; sizeBytes: number }[] };
    expect(status.images.map((i) => i.name)).toEqual(['disk-6.sdimg', 'disk-5.sdimg', 'disk-4.sdimg']);

    const folder = join(folders.state.path, 'installed-plugins');
    expect(readdirSync(folder)).toHaveLength(1);
    expect((await cli('plugin', 'uninstall', 'acme.image-mirror')).code).toBe(0);
    expect(readdirSync(folder)).toEqual([]);
    expect(((await cli('commands')).json['commands'] as { id: string }[]).some((c) => c.id.startsWith('acme.'))).toBe(false);
    expect(((await cli('plugins')).json['plugins'] as { id: string }[]).some((p) => p.id === 'acme.image-mirror')).toBe(false);
    const types = (await cli('schedule', 'types')).json['taskTypes'] as { id: string }[];
    expect(types.length).toBeGreaterThan(0);
    expect(types.some((t) => t.id.startsWith('acme.'))).toBe(false);
    expect(existsSync(join(folders.state.path, 'installed-plugins.json'))).toBe(true);
  });
});
