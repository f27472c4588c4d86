// `disk volumes`: LVM2 PVs, VGs and LVs made by lvm2 on loop devices (the LVs written with vgcfgrestore from edited
// metadata: lvcreate needs device-mapper, which this machine lacks), read from the disks and compared field by field
// with pvs/vgs/lvs --reportformat json.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LvmView } from '../../plugins/disk-tools/lvm/lvm-volumes.js';
import { loopDevice, run, sparseImage, tempDir, type LoopDevice } from '../helpers/index.js';
import { MiB, withHost } from './disk-fixtures.js';

/** lvm2 commands limited to our devices (others' PVs on this machine are none of our business), writing no backups to /etc/lvm. */
const lvm = (command: string, devices: readonly string[], args: readonly string[]) =>
  run(command, ['--devices', devices.join(','), '--config', 'backup { backup = 0 archive = 0 }', ...args]);

async function report<T>(command: 'pvs' | 'vgs' | 'lvs', devices: readonly string[], fields: string): Promise<T[]> {
  const { stdout } = await lvm(command, devices, ['--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', fields]);
  return (JSON.parse(stdout) as { report: Record<string, T[]>[] }).report[0]![command.slice(0, 2)]!;
}

const LVS = (vg: string) => `
	logical_volumes {
		spanned {
			id = "Sp4nnd-0000-1111-2222-3333-4444-555555"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 2
			segment1 {
				start_extent = 0
				extent_count = 6
				type = "striped"
				stripe_count = 1
				stripes = [
					"pv0", 2
				]
			}
			segment2 {
				start_extent = 6
				extent_count = 3
				type = "striped"
				stripe_count = 1
				stripes = [
					"pv1", 0
				]
			}
		}
		striped {
			id = "Str1pd-0000-1111-2222-3333-4444-555555"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 4
				type = "striped"
				stripe_count = 2
				stripe_size = 128
				stripes = [
					"pv0", 10,
					"pv1", 5
				]
			}
		}
	}
# ${vg}
`;

/** Three PVs made by lvm2 (a 64 MiB and a 48 MiB one in a VG with the two LVs above, a 32 MiB orphan), released after. */
async function withVolumeGroup(use: (vg: string, la: LoopDevice, lb: LoopDevice, lc: LoopDevice, devices: string[]) => Promise<void>): Promise<void> {
  await using images = await tempDir('shadowdisk-lvm-');
  await using a = await sparseImage(64 * MiB, { dir: images.path, name: 'a.img' });
  await using b = await sparseImage(48 * MiB, { dir: images.path, name: 'b.img' });
  await using c = await sparseImage(32 * MiB, { dir: images.path, name: 'c.img' });
  await using la = await loopDevice(a.path);
  await using lb = await loopDevice(b.path);
  await using lc = await loopDevice(c.path);
  const devices = [la.path, lb.path, lc.path];
  const vg = `sd${randomBytes(4).toString('hex')}`;
  await lvm('pvcreate', devices, ['-q', ...devices]);
  await lvm('vgcreate', devices, ['-q', vg, la.path, lb.path]);
  const backup = join(images.path, 'vg.txt');
  await lvm('vgcfgbackup', devices, ['-f', backup, vg]);
  const text = await readFile(backup, 'utf8');
  const at = text.lastIndexOf('}');
  await writeFile(backup, text.slice(0, at) + LVS(vg) + text.slice(at));
  await run('vgcfgrestore', ['--devices', devices.join(','), '--config', 'backup { backup = 0 archive = 0 }', '-f', backup, vg], { allowFailure: false });

  try {
    await use(vg, la, lb, lc, devices);
  } finally {
    // pvresize keeps lvm2's usual metadata backups; they name our throwaway VG only.
    await rm(`/etc/lvm/backup/${vg}`, { force: true });
    for (const name of await readdir('/etc/lvm/archive').catch(() => [] as string[])) if (name.startsWith(`${vg}_`)) await rm(`/etc/lvm/archive/${name}`, { force: true });
  }
}

describe('disk volumes (LVM2)', () => {
  it('shows PVs, VGs and LVs made by lvm2 as pvs, vgs and lvs report them', async () => {
    await withVolumeGroup(async (_vg, la, lb, lc, devices) => {
      await withHost(async (host) => {
        const shown = ((await host.executeCommand('shadowdisk.disk-tools.volumes', { positionals: devices })).data as { lvm: LvmView }).lvm;

        type Pv = Record<'pv_name' | 'vg_name' | 'pv_uuid' | 'pv_size' | 'dev_size' | 'pv_pe_count' | 'pv_pe_alloc_count', string>;
        const pvs = await report<Pv>('pvs', devices, 'pv_name,vg_name,pv_uuid,pv_size,dev_size,pv_pe_count,pv_pe_alloc_count');
        expect(pvs).toHaveLength(3);
        for (const judge of pvs) {
          const ours = shown.pvs.find((p) => p.device === judge.pv_name)!;
          expect(ours, judge.pv_name).toBeDefined();
          expect({ uuid: ours.uuid, vg: ours.vgName ?? '', dev: ours.deviceSizeBytes }).toEqual({ uuid: judge.pv_uuid, vg: judge.vg_name, dev: Number(judge.dev_size) });
          if (ours.vgName) expect([ours.sizeBytes, ours.peCount, ours.peAllocCount]).toEqual([Number(judge.pv_size), Number(judge.pv_pe_count), Number(judge.pv_pe_alloc_count)]);
        }

        type Vg = Record<'vg_name' | 'vg_uuid' | 'vg_extent_size' | 'vg_extent_count' | 'vg_free_count' | 'pv_count' | 'lv_count' | 'vg_seqno' | 'vg_size' | 'vg_free', string>;
        const [judgeVg] = await report<Vg>('vgs', devices, 'vg_name,vg_uuid,vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count,vg_seqno,vg_size,vg_free');
        expect(shown.vgs).toHaveLength(1);
        const ourVg = shown.vgs[0]!;
        expect([ourVg.name, ourVg.uuid, ourVg.extentSizeBytes, ourVg.extentCount, ourVg.freeCount, ourVg.pvCount, ourVg.lvCount, ourVg.seqno, ourVg.sizeBytes, ourVg.freeBytes])
          .toEqual([judgeVg!.vg_name, judgeVg!.vg_uuid, ...[judgeVg!.vg_extent_size, judgeVg!.vg_extent_count, judgeVg!.vg_free_count, judgeVg!.pv_count, judgeVg!.lv_count, judgeVg!.vg_seqno, judgeVg!.vg_size, judgeVg!.vg_free].map(Number)]);
        expect(ourVg.missingPvUuids).toEqual([]);

        type Lv = Record<'lv_name' | 'vg_name' | 'lv_uuid' | 'lv_size' | 'seg_count' | 'devices', string>;
        const lvs = await report<Lv>('lvs', devices, 'lv_name,vg_name,lv_uuid,lv_size,seg_count,devices');
        expect(shown.lvs.map((l) => l.name).sort()).toEqual([...new Set(lvs.map((l) => l.lv_name))].sort());
        for (const judge of lvs) {
          const ours = shown.lvs.find((l) => l.name === judge.lv_name)!;
          expect([ours.vgName, ours.uuid, ours.sizeBytes, ours.segments.length]).toEqual([judge.vg_name, judge.lv_uuid, Number(judge.lv_size), Number(judge.seg_count)]);
        }
        // lvs -o devices names each segment's PVs and start extents: "/dev/loop1(2)" or "/dev/loop1(10),/dev/loop2(5)".
        const ourDevices = shown.lvs.flatMap((l) => l.segments.map((s) => `${l.name} ${s.stripes.map((st) => `${st.device}(${st.startExtent})`).join(',')}`)).sort();
        expect(ourDevices).toEqual(lvs.map((l) => `${l.lv_name} ${l.devices}`).sort());
        // What the edited metadata says, in case both readers agreed on nothing: 9 and 4 extents of 4 MiB, one orphan PV.
        expect(shown.lvs.map((l) => [l.name, l.sizeBytes / MiB]).sort()).toEqual([['spanned', 36], ['striped', 16]]);
        expect(ourDevices).toEqual([`spanned ${la.path}(2)`, `spanned ${lb.path}(0)`, `striped ${la.path}(10),${lb.path}(5)`].sort());
        expect(shown.pvs.find((p) => p.device === lc.path)).toMatchObject({ vgName: null, peCount: 0 });
      });
    });
  });

  it('resizes a PV with pvresize, refusing to shrink it below its last allocated extent with nothing written', async () => {
    await withVolumeGroup(async (_vg, la, _lb, lc, devices) => {
      await withHost(async (host) => {
        const resize = (size: string, options: Record<string, boolean> = { yes: true }) =>
          host.executeCommand('shadowdisk.disk-tools.pv-resize', { positionals: [la.path, size], options });
        const peCount = async () => Number((await report<{ pv_name: string; pv_pe_count: string }>('pvs', devices, 'pv_name,pv_pe_count')).find((p) => p.pv_name === la.path)!.pv_pe_count);
        // pv0's last allocated extent is 11 (striped: 10 and 11): 1 MiB of header and label plus 12 extents of 4 MiB.
        const before = await readFile(la.backingFile);
        await expect(resize('48MiB')).rejects.toMatchObject({ code: 'SIZE_MISMATCH', details: { minimumBytes: 49 * MiB, lastAllocatedExtent: 11 } });
        expect((await readFile(la.backingFile)).equals(before)).toBe(true);
        expect(await peCount()).toBe(15);
        expect((await resize('49MiB', { 'dry-run': true })).data).toMatchObject({ dryRun: true, minimumBytes: 49 * MiB });
        expect((await resize('49MiB')).data).toMatchObject({ peCount: 12 });
        expect(await peCount()).toBe(12);
        expect((await resize('64MiB')).data).toMatchObject({ peCount: 15 });
        expect(await peCount()).toBe(15);
        await expect(resize('65MiB')).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
        await expect(host.executeCommand('shadowdisk.disk-tools.pv-resize', { positionals: [lc.path + 'x', '1MiB'], options: { yes: true } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });
  });
});
