// Disk properties in `disks --json`: discard (TRIM) limits, alignment and I/O hints judged by lsblk, and SMART marked
// unavailable on loop devices (as smartctl itself finds: it cannot identify one).
import { describe, expect, it } from 'vitest';
import { smartSummary } from '../../plugins/partition/disk-properties.js';
import { loopDevice, run, sparseImage } from '../helpers/index.js';
import { MiB, withHost } from './disk-fixtures.js';

interface Shown {
  path: string;
  rotational: boolean | null;
  firmware: string | null;
  discard: { supported: boolean; granularityBytes: number; maxBytes: number };
  alignmentOffsetBytes: number;
  minimumIoBytes: number | null;
  optimalIoBytes: number | null;
  smart: { state: string; reason?: string };
}

async function lsblk(device: string): Promise<Record<string, string | number | boolean | null>> {
  const { stdout } = await run('lsblk', ['--json', '--bytes', '--nodeps', '--output', 'NAME,DISC-GRAN,DISC-MAX,ALIGNMENT,MIN-IO,OPT-IO,ROTA', device]);
  return (JSON.parse(stdout) as { blockdevices: Record<string, string | number | boolean | null>[] }).blockdevices[0]!;
}

describe('disk properties', () => {
  it('shows a loop device with the discard limits, alignment and I/O sizes lsblk reports, and SMART unavailable', async () => {
    await using image = await sparseImage(16 * MiB);
    await using plain = await loopDevice(image.path);
    await using direct = await loopDevice(image.path, { directIo: true, sectorSize: 4096 });
    await withHost(async (host) => {
      for (const loop of [plain, direct]) {
        const shown = ((await host.executeCommand('shadowdisk.partition.disks', { positionals: [loop.path] })).data as { disks: Shown[] }).disks[0]!;
        const judge = await lsblk(loop.path);
        expect(shown.discard).toEqual({ supported: Number(judge['disc-gran']) > 0, granularityBytes: Number(judge['disc-gran']), maxBytes: Number(judge['disc-max']) });
        expect(shown.alignmentOffsetBytes).toBe(Number(judge['alignment']));
        expect(shown.minimumIoBytes).toBe(Number(judge['min-io']));
        expect(shown.optimalIoBytes).toBe(Number(judge['opt-io']));
        expect(shown.rotational).toBe(judge['rota'] === true || judge['rota'] === '1');
        expect(shown.firmware).toBeNull();
        expect(shown.smart).toEqual({ state: 'unavailable', reason: `${loop.path} is a virtual loop device without SMART` });
        // smartctl agrees: asked directly, it cannot identify the device, which the summary reports as its reason.
        const direct = await smartSummary(loop.path);
        expect(direct).toMatchObject({ state: 'unavailable', reason: expect.stringContaining('Unable to detect device type') });
        const smartctl = await run('smartctl', ['-i', loop.path], { allowFailure: true });
        expect(smartctl.code & 0b11).not.toBe(0);
      }
      // Every disk of the inventory carries the properties, SMART as a state either way.
      const all = ((await host.executeCommand('shadowdisk.partition.disks', {})).data as { disks: Shown[] }).disks;
      for (const disk of all) expect(['available', 'unavailable']).toContain(disk.smart.state);
    });
  });

  it('marks an image file as having no SMART and no discard', async () => {
    await using image = await sparseImage(4 * MiB);
    await withHost(async (host) => {
      const shown = ((await host.executeCommand('shadowdisk.partition.disks', { positionals: [image.path] })).data as { disks: Shown[] }).disks[0]!;
      expect(shown.smart).toEqual({ state: 'unavailable', reason: 'an image file has no SMART' });
      expect(shown.discard.supported).toBe(false);
    });
  });
});
