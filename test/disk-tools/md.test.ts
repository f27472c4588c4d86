// `disk volumes` and md RAID: members' 1.2 superblocks read and compared with mdadm --examine field by field; the
// arrays they form, with missing roles.
import { describe, expect, it } from 'vitest';
import type { MdArray, MdMember } from '../../plugins/disk-tools/md/md-members.js';
import { loopDevice, run, sparseImage, tempDir, type LoopDevice } from '../helpers/index.js';
import { MiB, withHost } from './disk-fixtures.js';
import { writeMd0Members, writeMdMembers } from './md-fixture.js';

/** `mdadm --examine` as key/value pairs. */
async function examine(device: string): Promise<Record<string, string>> {
  const { stdout } = await run('mdadm', ['--examine', device]);
  return Object.fromEntries(stdout.split('\n').map((line) => /^\s*([^:]+?)\s*:\s(.*)$/.exec(line)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!.trim()]));
}

describe('disk volumes (md RAID)', () => {
  it('reads 1.2 member superblocks as mdadm --examine shows them and groups them into arrays', async () => {
    await using dir = await tempDir('shadowdisk-md-');
    const loops: LoopDevice[] = [];
    const images = [];
    try {
      for (let i = 0; i < 5; i++) {
        images.push(await sparseImage(32 * MiB, { dir: dir.path, name: `m${i}.img` }));
        loops.push(await loopDevice(images[i]!.path));
      }
      const paths = loops.map((l) => l.path);
      const memberSectors = (32 * MiB) / 512;
      await writeMdMembers(paths.slice(0, 2), { name: 'shadowdisk:mirror', level: 1, layout: 0, chunkSectors: 0, raidDevices: 2, roles: [0, 1], memberSectors, events: 21 });
      // A RAID 5 of three with slot 1 missing and a spare present.
      await writeMdMembers(paths.slice(2, 5), { name: 'shadowdisk:parity', level: 5, layout: 2, chunkSectors: 1024, raidDevices: 3, roles: [0, 'spare', 2], memberSectors, events: 7 });
      await withHost(async (host) => {
        const { md } = (await host.executeCommand('shadowdisk.disk-tools.volumes', { positionals: paths })).data as { md: { members: MdMember[]; arrays: MdArray[] } };
        expect(md.members.map((m) => m.device)).toEqual(paths);
        for (const member of md.members) {
          const judge = await examine(member.device);
          expect(judge['Checksum']).toMatch(/correct$/);
          expect({
            Version: member.version, 'Array UUID': member.arrayUuid, Name: member.name, 'Raid Level': member.level, 'Raid Devices': String(member.raidDevices),
            'Avail Dev Size': `${member.availDevSectors} sectors`, 'Data Offset': `${member.dataOffsetSectors} sectors`, 'Super Offset': `${member.superOffsetSectors} sectors`,
            'Device UUID': member.deviceUuid, Events: String(member.events), 'Device Role': member.role === 'spare' ? 'spare' : member.role,
          }).toEqual({
            Version: judge['Version'], 'Array UUID': judge['Array UUID'], Name: judge['Name']?.replace(/\s+\(.*\)$/, ''), 'Raid Level': judge['Raid Level'], 'Raid Devices': judge['Raid Devices'],
            'Avail Dev Size': judge['Avail Dev Size']?.replace(/\s+\(.*\)$/, ''), 'Data Offset': judge['Data Offset'], 'Super Offset': judge['Super Offset'],
            'Device UUID': judge['Device UUID'], Events: judge['Events'], 'Device Role': judge['Device Role']?.toLowerCase() === 'spare' ? 'spare' : judge['Device Role'],
          });
          if (member.level === 'raid5') expect(judge['Chunk Size']).toBe(`${member.chunkBytes / 1024}K`);
        }
        const byName = Object.fromEntries(md.arrays.map((a) => [a.name, a]));
        expect(byName['shadowdisk:mirror']).toMatchObject({ level: 'raid1', raidDevices: 2, missingRoles: [] });
        expect(byName['shadowdisk:parity']).toMatchObject({ level: 'raid5', raidDevices: 3, missingRoles: [1] });
        // mdadm groups them the same way.
        const scan = (await run('mdadm', ['--examine', '--scan', ...paths])).stdout.trim().split('\n');
        const arrays = scan.filter((line) => line.startsWith('ARRAY'));
        expect(arrays.map((line) => /UUID=(\S+)/.exec(line)![1]).sort()).toEqual(md.arrays.map((a) => a.arrayUuid).sort());
        expect(scan).toContain('   spares=1');
      });
    } finally {
      for (const loop of loops.reverse()) await loop[Symbol.asyncDispose]();
      for (const image of images) await image[Symbol.asyncDispose]();
    }
  });

  it('reads 0.90 member superblocks at the end of the members as mdadm --examine shows them', async () => {
    await using dir = await tempDir('shadowdisk-md0-');
    await using a = await sparseImage(20 * MiB, { dir: dir.path, name: 'a.img' });
    await using b = await sparseImage(20 * MiB, { dir: dir.path, name: 'b.img' });
    await using la = await loopDevice(a.path);
    await using lb = await loopDevice(b.path);
    const paths = [la.path, lb.path];
    await writeMd0Members(paths, { level: 0, layout: 0, chunkSectors: 128, raidDevices: 2, memberSectors: (20 * MiB) / 512, events: 9 }, 20 * MiB);
    await withHost(async (host) => {
      const { md } = (await host.executeCommand('shadowdisk.disk-tools.volumes', { positionals: paths })).data as { md: { members: MdMember[]; arrays: MdArray[] } };
      expect(md.members.map((m) => [m.device, m.version, m.role])).toEqual([[la.path, '0.90', 'Active device 0'], [lb.path, '0.90', 'Active device 1']]);
      for (const member of md.members) {
        const judge = await examine(member.device);
        expect(judge['Checksum']).toMatch(/correct$/);
        expect([member.arrayUuid, member.level, String(member.raidDevices), String(member.events), `${member.chunkBytes / 1024}K`])
          .toEqual([judge['UUID'], judge['Raid Level'], judge['Raid Devices'], judge['Events'], judge['Chunk Size']]);
        expect(judge['Version']).toMatch(/^0\.90/);
      }
      expect(md.arrays).toMatchObject([{ level: 'raid0', raidDevices: 2, missingRoles: [] }]);
    });
  });
});
