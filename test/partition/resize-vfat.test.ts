// part resize of vfat (FAT16 and FAT32) through fatresize on the partition alone: grown after the table, shrunk before
// it; judged by fsck.fat -n, sfdisk --verify, the boot sector (type, size, hidden sectors) and every file's SHA-256 read
// out with mtools (vfat cannot be mounted here). Refusals (below the minimum, a FAT type change) leave the disk as it was.
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { isShadowError } from '../../sdk/index.js';
import { loopDevice, run, sparseImage, tempStateDir } from '../helpers/index.js';
import { fatWithFiles, judgeFat } from './fat-fixtures.js';
import { fileSha, rangeSha } from './move-fixtures.js';

const MiB = 1024 * 1024;
const part = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.partition.part-${verb}`, { positionals, options });

async function setup(label: 'gpt' | 'dos', diskMiB: number, fromMiB: number, fatBits: 12 | 16 | 32, clusterSectors?: number) {
  const stack = new AsyncDisposableStack();
  try {
    const state = stack.use(await tempStateDir());
    const host = stack.use(await createHost({ stateDir: state.path, logSink: () => undefined }));
    const image = stack.use(await sparseImage(diskMiB * MiB));
    await run('sfdisk', ['--quiet', image.path], { input: `label: ${label}\nstart=2048,size=${fromMiB * 2048},type=${label === 'gpt' ? 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7' : fatBits === 32 ? 'c' : 'e'}\n` });
    const hashes = await fatWithFiles(image.path, MiB, fromMiB * MiB, fatBits, fatBits, clusterSectors);
    const disk = stack.use(await loopDevice(image.path));
    await part(host, 'rescan', [disk.path]);
    return { host, image, disk, hashes, [Symbol.asyncDispose]: () => stack.disposeAsync() };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

describe('part resize of vfat', () => {
  for (const [label, fatBits, diskMiB, fromMiB, sizes] of [['gpt', 16, 256, 64, [100, 40]], ['dos', 32, 1024, 600, [800, 420]]] as const) {
    it(`grows then shrinks FAT${fatBits} on ${label === 'gpt' ? 'GPT' : 'MBR'}; fsck.fat clean, type and hidden sectors kept, files unchanged`, { timeout: 90_000 }, async () => {
      await using s = await setup(label, diskMiB, fromMiB, fatBits);
      // A neighbour partition after the largest size: its bytes must not change.
      const neighbourStart = (Math.max(...sizes) + 2) * MiB;
      await run('sfdisk', ['--quiet', '--append', s.disk.path], { input: `start=${neighbourStart / 512},size=8192\n` });
      await run('dd', ['if=/dev/urandom', `of=${s.disk.path}`, 'bs=1M', 'count=4', `seek=${neighbourStart / MiB}`, 'conv=notrunc,fsync', 'status=none']);
      await part(s.host, 'rescan', [s.disk.path]);
      const neighbour = await rangeSha(s.image.path, neighbourStart, 4 * MiB);
      const { serial } = await judgeFat(s.image.path, MiB, fromMiB * MiB);
      for (const toMiB of sizes) {
        await part(s.host, 'resize', [s.disk.path, '1', `${toMiB}MiB`]);
        await part(s.host, 'apply', [s.disk.path], { yes: true });
        await run('sfdisk', ['--verify', s.disk.path]);
        expect((await run('sfdisk', ['--json', s.disk.path])).stdout).toContain(`"size": ${toMiB * 2048}`);
        const judged = await judgeFat(s.image.path, MiB, toMiB * MiB);
        expect(judged.clean, judged.output).toBe(true);
        expect(judged.hashes).toEqual(s.hashes);
        expect(judged.boot).toMatchObject({ fatBits, hiddenSectors: 2048 });
        expect(judged.serial, 'the volume serial (fstab UUID=)').toBe(serial);
        const fsBytes = judged.boot.totalSectors * judged.boot.bytesPerSector;
        expect(fsBytes).toBeLessThanOrEqual(toMiB * MiB);
        expect(fsBytes, `FAT${fatBits} of ${fsBytes} bytes in ${toMiB} MiB`).toBeGreaterThan((toMiB - 2) * MiB);
        expect((await run('fatlabel', [`${s.disk.path}p1`])).stdout.trim()).toBe(`FAT${fatBits}DATA`);
      }
      expect(await rangeSha(s.image.path, neighbourStart, 4 * MiB)).toBe(neighbour);
    });
  }

  it('refuses a shrink below the minimum and a resize that changes the FAT type, before writing anything', { timeout: 60_000 }, async () => {
    // FAT32 (1 KiB clusters) shrunk below its minimum, or to a cluster count only FAT16 has; FAT16 grown past what
    // FAT16 can address; FAT12, which fatresize does not handle.
    for (const [label, diskMiB, fromMiB, fatBits, clusterSectors, cases] of [
      ['dos', 128, 100, 32, 2, [['20MiB', 'SIZE_MISMATCH', /needs at least/], ['60MiB', 'UNSUPPORTED', /would convert its FAT type to FAT16/]]],
      ['gpt', 256, 64, 16, undefined, [['200MiB', 'UNSUPPORTED', /fatresize cannot resize .* GNU Parted cannot resize this partition to this size/]]],
      ['dos', 32, 8, 12, undefined, [['12MiB', 'UNSUPPORTED', /is FAT12, and fatresize resizes FAT16 and FAT32 only/]]],
    ] as const) {
      await using s = await setup(label, diskMiB, fromMiB, fatBits, clusterSectors);
      const before = await fileSha(s.image.path);
      for (const [size, code, message] of cases) {
        await part(s.host, 'resize', [s.disk.path, '1', size]);
        const refused = await part(s.host, 'apply', [s.disk.path], { yes: true }).catch((e: unknown) => e);
        expect(isShadowError(refused, code), String(refused)).toBe(true);
        expect((refused as Error).message).toMatch(message);
        await part(s.host, 'plan-clear', [s.disk.path]);
      }
      expect(await fileSha(s.image.path)).toBe(before);
    }
  });
});
