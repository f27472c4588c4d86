import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureIo } from '../../core/node/cli/capture-io.js';
import { main } from '../../core/node/cli/main.js';
import { loopDevice, mkfs, mount, sparseImage, tempStateDir, type TempDir } from '../helpers/index.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));

let state: TempDir;
beforeEach(async () => {
  state = await tempStateDir();
  process.env['SHADOWDISK_HOME'] = state.path;
  delete process.env['SHADOWDISK_PLUGIN_PATH'];
});
afterEach(async () => {
  delete process.env['SHADOWDISK_HOME'];
  delete process.env['SHADOWDISK_PLUGIN_PATH'];
  await state[Symbol.asyncDispose]();
});

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('shadowdisk CLI', () => {
  it('lists commands contributed through the manifests of two first-party plugins', async () => {
    const { code, out } = await cli('commands', '--json');
    expect(code).toBe(0);
    const { commands } = JSON.parse(out) as { commands: { id: string; plugin: string; cli: string }[] };
    const byId = new Map(commands.map((c) => [c.id, c]));
    expect(byId.get('shadowdisk.partition.disks')).toMatchObject({ plugin: 'shadowdisk.partition', cli: 'disks' });
    expect(byId.get('shadowdisk.workbench.plugins')).toMatchObject({ plugin: 'shadowdisk.workbench', cli: 'plugins' });
    expect(new Set(commands.map((c) => c.plugin)).size).toBeGreaterThanOrEqual(2);
  });

  it('shows the loaded plugins with their state and contributions, and refuses a bad manifest without stopping the others', async () => {
    process.env['SHADOWDISK_PLUGIN_PATH'] = fixtures;
    const { code, out } = await cli('plugins', '--json');
    expect(code).toBe(0);
    const { plugins } = JSON.parse(out) as { plugins: { id: string; state: string; contributions: Record<string, string[]>; error?: { message: string } }[] };
    const byId = new Map(plugins.map((p) => [p.id, p]));
    expect(byId.get('shadowdisk.partition')?.contributions['commands']).toContain('shadowdisk.partition.disks');
    expect(byId.get('shadowdisk.partition')?.contributions['filesystems']).toHaveLength(7);
    expect(byId.get('shadowdisk.partition')?.state).toBe('inactive');
    expect(byId.get('shadowdisk.workbench')?.state).toBe('active');
    expect(byId.get('bad-manifest')?.state).toBe('refused');
    expect(byId.get('bad-manifest')?.error?.message).toMatch(/shadowdisk\.contributes\.commands\[2\]\.id: must look like publisher\.plugin\.thing/);
    expect(byId.get('fixtures.lazy-probe')?.state).toBe('inactive');
  });

  it('runs a fixture plugin command by its multi-word CLI verb', async () => {
    process.env['SHADOWDISK_PLUGIN_PATH'] = fixtures;
    const { code, out } = await cli('probe', 'hello', 'there', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ hello: 'there' });
  });

  it('prints a JSON error and exits with the usage code for an unknown command', async () => {
    const { code, out } = await cli('frobnicate', '--json');
    expect(code).toBe(2);
    expect(JSON.parse(out)).toEqual({ error: { code: 'COMMAND_NOT_FOUND', message: "Unknown command 'frobnicate'; run 'shadowdisk commands' to list the commands" } });
  });

  it('exits with the not-found code and names the path for a missing disk', async () => {
    const { code, err } = await cli('disks', '/nonexistent/disk.img');
    expect(code).toBe(3);
    expect(err).toContain("Cannot inspect '/nonexistent/disk.img': no such file or device");
  });

  it("shows a test's 4096-byte-sector loop device with its size, sector sizes and mountpoint", async () => {
    await using image = await sparseImage(64 * 1024 * 1024);
    await using loop = await loopDevice(image.path, { sectorSize: 4096 });
    await mkfs(loop.path, 'ext4');
    await using mounted = await mount(loop.path);

    const all = await cli('disks', '--json');
    expect(all.code).toBe(0);
    const disk = (JSON.parse(all.out) as { disks: Record<string, unknown>[] }).disks.find((d) => d['path'] === loop.path);
    expect(disk).toMatchObject({
      kind: 'block-device', sizeBytes: 64 * 1024 * 1024, logicalSectorSize: 4096, physicalSectorSize: 4096,
      mountpoints: [mounted.mountpoint], busy: true, loop: { backingFile: image.path },
    });
    expect(disk?.['busyReasons']).toEqual([`${loop.path} is mounted on ${mounted.mountpoint}`]);

    const one = await cli('disks', loop.path);
    expect(one.out).toContain(loop.path);
    expect(one.out).toContain('4096/4096');
    expect(one.out).toContain(mounted.mountpoint);
  });

  it('describes an image file and the loop device that shows it', async () => {
    await using image = await sparseImage(8 * 1024 * 1024);
    await using loop = await loopDevice(image.path);
    const { code, out } = await cli('disks', image.path, '--json');
    expect(code).toBe(0);
    expect((JSON.parse(out) as { disks: unknown[] }).disks[0]).toMatchObject({ kind: 'image-file', sizeBytes: 8 * 1024 * 1024, attachedAs: [loop.path], busy: true });
  });

  it('runs the demo as a job with progress events as NDJSON on stderr', async () => {
    const { code, out, err } = await cli('demo', '--size-mib', '32', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(out) as { read: { matches: boolean; nonZeroBlocks: number }; disk: { sizeBytes: number } };
    expect(result.read).toMatchObject({ matches: true, nonZeroBlocks: 4 });
    expect(result.disk.sizeBytes).toBe(32 * 1024 * 1024);
    const events = err.trim().split('\n').map((l) => JSON.parse(l) as { type: string; phase?: string; status?: string });
    expect(events.filter((e) => e.type === 'progress').map((e) => e.phase)).toContain('read');
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'succeeded' });
  });

  it('runs from the compiled launcher on Node 24', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [`${repo}bin/shadowdisk.js`, 'commands', '--json'], { env: { ...process.env, SHADOWDISK_HOME: state.path } });
    expect((JSON.parse(stdout) as { commands: unknown[] }).commands.length).toBeGreaterThanOrEqual(4);
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });
});
