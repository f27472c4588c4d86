// GPT conformance: random layouts made by sgdisk, sfdisk and parted, judged by those tools (see test/conformance/gpt-judges.ts).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CaseResult, checkGptCase, imageBench, loopBench } from '../../../test/conformance/gpt-judges.js';
import { generateGptCases } from '../../../test/conformance/gpt-layouts.js';
import { loopDevice, tempDir } from '../../../test/helpers/index.js';

/** Layout count; the CI default is sized to finish in about a minute on two cores. Set GPT_LAYOUTS for more. */
const COUNT = Number(process.env.GPT_LAYOUTS ?? 250);
const SEED = Number(process.env.GPT_SEED ?? 4);
const WORKERS = 2;

describe('GPT conformance', () => {
  it(`reads ${COUNT} sgdisk/sfdisk/parted layouts as sfdisk and sgdisk do, writes them back byte for byte, and writes tables all three tools accept and sfdisk writes identically`, async () => {
    const cases = generateGptCases(COUNT, SEED);
    await using dir = await tempDir('shadowdisk-gpt-conformance-');
    await using stack = new AsyncDisposableStack();
    const results: CaseResult[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, worker) => {
        const small = join(dir.path, `worker${worker}-512.img`);
        const large = join(dir.path, `worker${worker}-4096.img`);
        await writeFile(small, '');
        await writeFile(large, new Uint8Array(1024 * 1024));
        const loop = stack.use(await loopDevice(large, { sectorSize: 4096 }));
        const benches = { 512: imageBench(small, 512), 4096: loopBench(large, loop.path, 4096) };
        for (let i = worker; i < cases.length; i += WORKERS) {
          const c = cases[i]!;
          try {
            results.push(await checkGptCase(c, benches[c.sectorSize]));
          } catch (error) {
            results.push({ id: c.id, problems: [`threw: ${(error as Error).message}`] });
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const failed = results.filter((r) => r.problems.length).sort((a, b) => a.id - b.id);
    const by = (key: 'tool' | 'sectorSize') => Object.fromEntries(['sgdisk', 'sfdisk', 'parted', 512, 4096].map((k) => [k, cases.filter((c) => c[key] === k).length]).filter(([, n]) => n));
    console.log(`GPT conformance: ${cases.length} layouts (${JSON.stringify(by('tool'))}, ${JSON.stringify(by('sectorSize'))} sectors, ${cases.reduce((n, c) => n + c.partitions.length, 0)} partitions) in ${seconds.toFixed(1)} s; ${failed.length} failed`);
    expect(failed.map((r) => `case ${r.id} (${cases[r.id]!.tool}, ${cases[r.id]!.sectorSize}-byte sectors, seed ${SEED}): ${r.problems.join(' | ')}`).slice(0, 8)).toEqual([]);
    expect(results.length).toBe(COUNT);
  }, 900_000);
});
