// Shadow sets on real volumes: ext4 on loop devices whose image files lie on an XFS pool (the reflink provider), under
// a process that writes paired records across both volumes; judged by mounting the snapshots and reading the records.
import { statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detachLoop, loopStatus } from '../../native/index.js';
import { captureIo } from '../../core/node/cli/capture-io.js';
import { main } from '../../core/node/cli/main.js';
import { run, tempDir } from '../helpers/index.js';
import { pairedWriter, readRecords } from './paired-writer.js';
import { pool, vssHost } from './vss-host.js';

const MiB = 1024 * 1024;
const SETS = Number(process.env['SHADOWDISK_VSS_SETS'] ?? 15);

describe('shadow sets', () => {
  it(`takes two volumes at one instant: in ${SETS} sets under a paired writer, B never holds a record missing on A`, async () => {
    await using p = await pool();
    await using vss = await vssHost();
    const a = await p.volume('a', 64 * MiB, 'ext4');
    const b = await p.volume('b', 64 * MiB, 'ext4');
    await using writer = pairedWriter(join(a.mountpoint, 'log'), join(b.mountpoint, 'log'));
    const holds: number[] = [];
    let tornPairs = 0;
    for (let trial = 0; trial < SETS; trial++) {
      const set = await vss.create([a.mountpoint, b.device]);
      expect(set.volumes.map((v) => v.provider)).toEqual(['shadowdisk.vss.reflink', 'shadowdisk.vss.reflink']);
      holds.push(set.timings!.flushAndHoldMs);
      const mounted = (await vss.command('mount', [set.id])) as { mounted: { mountpoint: string }[] };
      const [ma, mb] = mounted.mounted.map((m) => m.mountpoint);
      const onA = readRecords(join(ma!, 'log'));
      const onB = readRecords(join(mb!, 'log'));
      expect(onB, `set ${trial}: B holds ${onB} records, A ${onA}`).toBeLessThanOrEqual(onA);
      expect(onA - onB).toBeLessThanOrEqual(1);
      if (onA !== onB) tornPairs++;
      await vss.command('unmount', [set.id]);
      await vss.command('delete', [set.id]);
    }
    const written = await writer.stop();
    expect(written).toBeGreaterThan(SETS);
    console.log(`${SETS} sets, ${written} pairs written, ${tornPairs} cuts between A and B of a pair, flush-and-hold p50 ${percentile(holds, 50)} ms p99 ${percentile(holds, 99)} ms`);
  }, 60_000 + SETS * 3000);

  it('exposes each snapshot as a read-only loop device on a clone of the image, judged clean by e2fsck, exposes it again when the device is gone, and deletes it without leftovers', async () => {
    await using p = await pool();
    await using vss = await vssHost();
    const a = await p.volume('a', 64 * MiB, 'ext4');
    await run('sh', ['-c', `head -c 3000000 /dev/urandom > ${a.mountpoint}/data && sync`]);
    const set = await vss.create([a.device], { provider: 'reflink' });
    const device = set.volumes[0]!.exposed!.device!;
    const clone = set.volumes[0]!.snapshot['clonePath'] as string;
    expect(loopStatus(device)).toMatchObject({ backingFile: clone, readOnly: true });
    expect(statSync(clone).size).toBe(64 * MiB);
    await run('e2fsck', ['-fn', device]);
    const listed = (await vss.command('list')) as { sets: { id: string; state: string }[] };
    expect(listed.sets).toEqual([expect.objectContaining({ id: set.id, state: 'complete' })]);
    // As after a reboot: the loop device is gone, the clone stays; mount exposes it again.
    detachLoop(device);
    await vss.command('mount', [set.id]);
    const again = ((await vss.command('list')) as { sets: { volumes: { exposed: { device: string }; mountedOn: string }[] }[] }).sets[0]!.volumes[0]!;
    expect(loopStatus(again.exposed.device)).toMatchObject({ backingFile: clone, readOnly: true });
    expect(statSync(join(again.mountedOn, 'data')).size).toBe(3_000_000);
    await expect(vss.command('delete', [set.id])).rejects.toMatchObject({ code: 'TARGET_BUSY' });
    await vss.command('unmount', [set.id]);
    await vss.command('delete', [set.id]);
    expect(() => loopStatus(again.exposed.device)).toThrow();
    expect(() => statSync(clone)).toThrow();
    expect(((await vss.command('list')) as { sets: unknown[] }).sets).toEqual([]);
  }, 60_000);
});

describe('image backup --vss', () => {
  it('images two volumes from one shadow set from the command line, with the set deleted afterwards', async () => {
    await using p = await pool();
    await using vss = await vssHost();
    await using out = await tempDir('shadowdisk-vss-images-');
    const a = await p.volume('a', 64 * MiB, 'ext4');
    const b = await p.volume('b', 64 * MiB, 'ext4');
    await run('sh', ['-c', `echo alpha > ${a.mountpoint}/note && echo beta > ${b.mountpoint}/note`]);
    const folder = join(out.path, 'set');
    const io = captureIo();
    const previousHome = process.env['SHADOWDISK_HOME'];
    process.env['SHADOWDISK_HOME'] = vss.stateDir;
    try {
      expect(await main(['image', 'backup', '--vss', a.mountpoint, b.device, folder, '--json'], io), io.err()).toBe(0);
    } finally {
      if (previousHome === undefined) delete process.env['SHADOWDISK_HOME'];
      else process.env['SHADOWDISK_HOME'] = previousHome;
    }
    const result = JSON.parse(io.out()) as { images: { volume: string; image: string }[]; kept: boolean };
    expect(result.images.map((i) => i.volume)).toEqual([a.mountpoint, b.device]);
    for (const [index, expected] of ['alpha\n', 'beta\n'].entries()) {
      const image = result.images[index]!.image;
      await vss.host.executeCommand('shadowdisk.backup.image-verify', { positionals: [image] });
      const dest = join(out.path, `extracted-${index}`);
      await mkdir(dest);
      await vss.host.executeCommand('shadowdisk.backup.image-extract', { positionals: [image, '/note', dest] });
      expect(await readFile(join(dest, 'note'), 'utf8')).toBe(expected);
    }
    expect(((await vss.command('list')) as { sets: unknown[] }).sets).toEqual([]);
  }, 90_000);
});

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

