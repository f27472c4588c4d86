// The providers on real volumes: an XFS snapshot that mounts read-only with no options while its origin is mounted
// (reflink), a btrfs subvolume snapshot in one set with an ext4 volume under the paired writer, and a volume attached
// through hot processing (hotcore).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mkfs, mount, run, sparseImage } from '../helpers/index.js';
import { hotAttach, hotHost } from '../hot/hot-volume.js';
import { pairedWriter, readRecords } from './paired-writer.js';
import { pool, vssHost } from './vss-host.js';

const MiB = 1024 * 1024;

async function uuidOf(device: string): Promise<string> {
  return (await run('blkid', ['-p', '-s', 'UUID', '-o', 'value', device])).stdout.trim();
}

function mountOptions(mountpoint: string): string {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mountpoint);
  return line ?? '';
}

describe('snapshot providers', () => {
  it('mounts an XFS snapshot read-only with no options while its origin is mounted: the log-recovered copy has its own UUID', async () => {
    await using p = await pool();
    await using vss = await vssHost();
    const x = await p.volume('x', 320 * MiB, 'xfs');
    await run('sh', ['-c', `echo before > ${x.mountpoint}/note && sync`]);
    // Writes that are in the log only at the cut: the frozen filesystem still has them in the snapshot.
    await run('sh', ['-c', `for i in $(seq 1 50); do echo $i > ${x.mountpoint}/f$i; done`]);
    const set = await vss.create([x.mountpoint]);
    const exposed = set.volumes[0]!.exposed!;
    expect(exposed.mountDevice).toMatch(/^\/dev\/loop\d+$/);
    expect(await uuidOf(exposed.device!)).toBe(await uuidOf(x.device));
    expect(await uuidOf(exposed.mountDevice!)).not.toBe(await uuidOf(x.device));
    await run('sh', ['-c', `echo after > ${x.mountpoint}/note`]);
    const { mounted } = (await vss.command('mount', [set.id])) as { mounted: { mountpoint: string }[] };
    const mp = mounted[0]!.mountpoint;
    expect(mountOptions(mp)).toMatch(/ ro[, ]/);
    expect(mountOptions(mp)).not.toMatch(/norecovery|nouuid/);
    expect(readFileSync(join(mp, 'note'), 'utf8')).toBe('before\n');
    expect(readFileSync(join(mp, 'f50'), 'utf8')).toBe('50\n');
    await vss.command('unmount', [set.id]);
    // The recovered copy is consistent by XFS's own judge (the pristine snapshot may still hold a log to replay).
    await run('xfs_repair', ['-n', exposed.mountDevice!]);
  }, 90_000);

  it('cuts a btrfs subvolume snapshot and an ext4 clone in one set under the paired writer', async () => {
    await using p = await pool();
    await using vss = await vssHost();
    const a = await p.volume('a', 64 * MiB, 'ext4');
    const b = await p.volume('b', 256 * MiB, 'btrfs');
    await using writer = pairedWriter(join(a.mountpoint, 'log'), join(b.mountpoint, 'log'));
    for (let trial = 0; trial < 3; trial++) {
      const set = await vss.create([a.mountpoint, b.mountpoint]);
      expect(set.volumes.map((v) => v.provider)).toEqual(['shadowdisk.vss.reflink', 'shadowdisk.vss.btrfs']);
      const path = set.volumes[1]!.exposed!.path!;
      expect((await run('btrfs', ['property', 'get', '-ts', path, 'ro'])).stdout.trim()).toBe('ro=true');
      const { mounted } = (await vss.command('mount', [set.id])) as { mounted: { mountpoint: string }[] };
      const onA = readRecords(join(mounted[0]!.mountpoint, 'log'));
      const onB = readRecords(join(mounted[1]!.mountpoint, 'log'));
      expect(onB).toBeLessThanOrEqual(onA);
      await vss.command('unmount', [set.id]);
      await vss.command('delete', [set.id]);
    }
    expect(await writer.stop()).toBeGreaterThan(0);
  }, 90_000);

  it('snapshots a volume attached through hot processing with the engine, visible to hot snapshot list, and deletes it', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(64 * MiB, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    await mkfs(volume.device, 'ext4');
    await using mounted = await mount(volume.device);
    await run('sh', ['-c', `echo one > ${mounted.mountpoint}/note && sync`]);
    const shadow = (verb: string, positionals: string[], options: Record<string, string | boolean> = {}) => hot.host.executeCommand(`shadowdisk.vss.${verb}`, { positionals, options });
    const set = (await shadow('create', [mounted.mountpoint])).data as { id: string; volumes: { provider: string; exposed: { device: string } }[] };
    try {
      expect(set.volumes[0]!.provider).toBe('shadowdisk.vss.hotcore');
      await run('sh', ['-c', `echo two > ${mounted.mountpoint}/note && sync`]);
      const listed = await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-list', { options: { json: true } });
      expect((listed.data as { snapshots: unknown[] }).snapshots).toEqual([expect.objectContaining({ snapshotDevice: set.volumes[0]!.exposed.device, state: 'active' })]);
      const { mounted: views } = (await shadow('mount', [set.id])).data as { mounted: { mountpoint: string }[] };
      expect(readFileSync(join(views[0]!.mountpoint, 'note'), 'utf8')).toBe('one\n');
      await shadow('unmount', [set.id]);
    } finally {
      await shadow('delete', [set.id], { force: true });
    }
    expect((await volume.client.status()).snapshot.state).toBe('none');
    expect(volume.current()?.snapshot).toBeUndefined();
  }, 90_000);
});
