import { closeSync, openSync, readSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunContext } from '../../../sdk/index.js';
import { loopDevice, run, sparseImage } from '../../../test/helpers/index.js';
import { parseFatBootSector } from './fat-boot-sector.js';
import { resizeFat } from './fat-resize.js';
import { fatresizeRequest } from './fatresize-request.js';

const MiB = 1024 * 1024;
const quiet: RunContext = { signal: new AbortController().signal, progress: () => undefined, log: { info: () => undefined, warn: () => undefined, error: () => undefined } };

function bootSector(device: string) {
  const sector = new Uint8Array(512);
  const fd = openSync(device, 'r');
  try {
    readSync(fd, sector, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  return parseFatBootSector(sector)!;
}

describe('vfat resize through fatresize', () => {
  // Sizes in each of parted's rounding regimes: tenths of MB (below 100 MB), whole MB, tenths of GB (from 10 GB).
  const CASES = [
    { what: 'shrinks FAT16 from 64 MiB to within 40 MiB', fatBits: 16, deviceBytes: 64 * MiB, madeBytes: 64 * MiB, wantedBytes: 40 * MiB },
    { what: 'grows FAT16 of 48 MiB to fill 71 MiB', fatBits: 16, deviceBytes: 71 * MiB, madeBytes: 48 * MiB, wantedBytes: 71 * MiB },
    { what: 'shrinks FAT32 from 600 MiB to within 421 MiB', fatBits: 32, deviceBytes: 600 * MiB, madeBytes: 600 * MiB, wantedBytes: 421 * MiB },
    { what: 'grows FAT32 of 10 GiB to fill 12 GiB', fatBits: 32, deviceBytes: 12 * 1024 * MiB, madeBytes: 10 * 1024 * MiB, wantedBytes: 12 * 1024 * MiB },
  ] as const;
  for (const { what, fatBits, deviceBytes, madeBytes, wantedBytes } of CASES) {
    it(`${what}, ending where fatresizeRequest predicts; fsck.fat clean`, { timeout: 60_000 }, async () => {
      await using image = await sparseImage(deviceBytes);
      await using loop = await loopDevice(image.path);
      await run('mkfs.vfat', ['-F', String(fatBits), loop.path, String(madeBytes / 1024)]);
      await resizeFat(loop.path, wantedBytes, quiet);
      const boot = bootSector(loop.path);
      const predicted = fatresizeRequest(deviceBytes / 512, wantedBytes / 512, 512)!;
      expect(boot.fatBits).toBe(fatBits);
      expect(boot.totalSectors).toBe(predicted.sectors);
      expect(boot.totalSectors * 512).toBeLessThanOrEqual(wantedBytes);
      // parted rounds to a tenth of a MB below 100 MB, a MB below 10 GB, a tenth of a GB above; a grow also stays half
      // a unit (MB or GB) away from the device's end, or fatresize would snap to it.
      const unit = wantedBytes >= 10e9 ? 1e9 : 1e6;
      expect(wantedBytes - boot.totalSectors * 512).toBeLessThan((madeBytes < wantedBytes ? unit / 2 : 0) + (wantedBytes >= 100e6 && wantedBytes < 10e9 ? 1e6 : 1e5 * (unit / 1e6)) + 1024);
      const check = await run('fsck.fat', ['-n', loop.path], { allowFailure: true });
      expect(check.code, check.stdout + check.stderr).toBe(0);
    });
  }
});
