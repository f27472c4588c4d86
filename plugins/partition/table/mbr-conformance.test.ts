// Conformance of the MBR codec with sfdisk and parted on generated layouts (MBR_LAYOUTS=N to change the count).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loopDevice, sparseImage, type LoopDevice, type SparseImage } from '../../../test/helpers/index.js';
import { checkMbrLayout, type MbrCheckResult } from '../../../test/conformance/mbr-conformance-check.js';
import { scratchDir, type ScratchDir } from '../../../test/conformance/mbr-image.js';
import { generateMbrLayouts } from '../../../test/conformance/mbr-layouts.js';

const COUNT = Number(process.env['MBR_LAYOUTS'] ?? 260);
const SEED = Number(process.env['MBR_SEED'] ?? 0x5d15c);
const DEVICE_BYTES = 80 * 1024 ** 3;
const layouts = generateMbrLayouts({ seed: SEED, count: COUNT, sectorCount4096: DEVICE_BYTES / 4096 });

let dir: ScratchDir;
let backing: SparseImage;
let device: LoopDevice;
const results: MbrCheckResult[] = [];
let deviceQueue: Promise<unknown> = Promise.resolve();

beforeAll(async () => {
  dir = await scratchDir();
  backing = await sparseImage(DEVICE_BYTES, { dir: dir.path, name: 'device-4096.img' });
  device = await loopDevice(backing.path, { sectorSize: 4096 });
});

afterAll(async () => {
  await device?.[Symbol.asyncDispose]();
  await backing?.[Symbol.asyncDispose]();
  await dir?.[Symbol.asyncDispose]();
  const sfdiskMade = results.filter((r) => r.sameBytesAsSfdisk !== undefined);
  const count = (f: (l: (typeof layouts)[number]) => boolean) => layouts.filter(f).length;
  console.log(`MBR layouts: sfdisk ${count((l) => l.tool === 'sfdisk')}, parted ${count((l) => l.tool === 'parted')}; 4096-byte sectors ${count((l) => l.sectorSize === 4096)}; 50+ logicals ${count((l) => l.logicals.length >= 50)}`);
  console.log(`MBR conformance: ${results.length} layouts, ${results.reduce((n, r) => n + r.partitions, 0)} partitions; our table built from the Layout alone equals sfdisk's bytes in ${sfdiskMade.filter((r) => r.sameBytesAsSfdisk).length} of ${sfdiskMade.length} sfdisk layouts`);
});

/** The 4096-byte-sector layouts share one loop device, so they run one after another. */
function onDevice<T>(job: () => Promise<T>): Promise<T> {
  const next = deviceQueue.then(job, job);
  deviceQueue = next.catch(() => undefined);
  return next;
}

describe.concurrent('MBR conformance', () => {
  for (const spec of layouts) {
    const name = `layout ${spec.id} made by ${spec.tool} with ${spec.sectorSize}-byte sectors, ${spec.primaries.length} primary/extended and ${spec.logicals.length} logical partitions, reads as sfdisk reads it, round-trips byte for byte and is rewritten to a table sfdisk and parted accept`;
    test(name, async () => {
      const check = () => checkMbrLayout(spec, { dir: dir.path, device4096: device.path });
      const result = spec.sectorSize === 4096 ? await onDevice(check) : await check();
      results.push(result);
      if (result.differenceFromSfdisk) console.log(`DIFF ${spec.id}: ${result.differenceFromSfdisk}\n${JSON.stringify(spec)}`);
      if (spec.tool === 'sfdisk') expect(result.differenceFromSfdisk, `layout ${spec.id}: our table differs from sfdisk's bytes`).toBeUndefined();
    }, 120_000);
  }
});
