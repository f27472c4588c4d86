// A test that runs past its timeout never reaches the end of its `await using` blocks; what it made through the
// helpers is still released when vitest finishes it (test-scope.ts). Checked on a real vitest run of a fixture.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMounted, loopBackingFile, run, tempDir } from './index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('test scope', () => {
  it("releases a timed-out test's mount and loop device, which its body never got to", async () => {
    await using dir = await tempDir();
    const report = join(dir.path, 'made.json');
    const vitest = join(root, 'node_modules/vitest/vitest.mjs');
    const child = await run('env', [`SHADOWDISK_SCOPE_REPORT=${report}`, process.execPath, vitest, 'run', '--root', root, '--config', join(root, 'test/helpers/fixtures/timeout/vitest.config.ts')], { allowFailure: true });
    expect(child.code, child.stdout + child.stderr).not.toBe(0);
    expect(child.stdout + child.stderr).toMatch(/timed out in 15000ms/);
    const made = JSON.parse(readFileSync(report, 'utf8')) as { image: string; loop: string; mountpoint: string };
    expect(await isMounted(made.mountpoint)).toBe(false);
    expect(await loopBackingFile(made.loop)).not.toBe(made.image);
  }, 120_000);
});
