// hot attach|detach|status|snapshot through the host, on image files, with a real engine, FUSE and loop devices.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocAligned, DirectFile, loopStatus } from '../../native/index.js';
import { isMounted, loopDevice, mkfs, mount, run, sparseImage, tempDir } from '../../test/helpers/index.js';
import { hotAttach, hotHost } from '../../test/hot/hot-volume.js';
import { isRunning } from './engine-process.js';
import type { AttachmentStatus } from './hot-commands.js';
import { Attachments, type Attachment } from './attachments.js';
import { bootUnitName } from './boot-unit.js';

const MiB = 1024 * 1024;

describe('hot commands', () => {
  it('attaches an image behind a direct-I/O loop device on the engine file and detaches it without leftovers', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(64 * MiB, { dir: hot.scratch });
    const volume = await hotAttach(hot, image.path);
    try {
      const { attachment } = volume;
      expect(loopStatus(attachment.device)).toMatchObject({ backingFile: `${attachment.mountDir}/volume`, directIo: true, readOnly: false });
      const status = await hot.host.executeCommand('shadowdisk.hot-processing.status', { options: { json: true } });
      const [listed] = (status.data as { attachments: AttachmentStatus[] }).attachments;
      expect(listed).toMatchObject({ origin: image.path, device: attachment.device, engine: { sizeBytes: 64 * MiB, generation: 1, snapshot: { state: 'none' } } });
      await hot.host.executeCommand('shadowdisk.hot-processing.detach', { positionals: [attachment.device] });
      expect(await isMounted(attachment.mountDir)).toBe(false);
      expect(isRunning(attachment.pid)).toBe(false);
      expect(existsSync(attachment.controlPath)).toBe(false);
      expect(volume.current()).toBeUndefined();
    } finally {
      await volume[Symbol.asyncDispose]();
    }
  });

  it('prepares a snapshot\'s diff store before the cut (the cut then only switches to it) and drops a prepared store never cut', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(64 * MiB, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    const stores = async () => (await readdir(hot.diffDir)).filter((name) => name.endsWith('.diff'));
    expect(await volume.client.prepareSnapshot()).toBe(true);
    const [prepared] = await stores();
    expect(prepared).toBeDefined();
    // The first growth step is allocated already, and nothing is cut yet.
    expect((await stat(join(hot.diffDir, prepared!))).blocks * 512).toBeGreaterThanOrEqual(64 * MiB);
    expect((await volume.client.status()).snapshot.state).toBe('none');
    await volume.client.dropPrepared();
    expect(await stores()).toEqual([]);
    await volume.client.prepareSnapshot();
    await volume.client.prepareSnapshot(); // twice: still one store
    const [store] = await stores();
    expect(await stores()).toEqual([store]);
    const cut = await volume.client.createSnapshot();
    expect(cut).toMatchObject({ state: 'active' });
    expect(await stores()).toEqual([store]);
    await expect(volume.client.prepareSnapshot()).rejects.toMatchObject({ details: { engineCode: 'SNAPSHOT_EXISTS' }, message: expect.stringMatching(/exists; delete it first/) });
    await volume.client.dropPrepared(); // leaves an existing snapshot alone
    expect((await volume.client.status()).snapshot.state).toBe('active');
    await volume.client.deleteSnapshot();
    expect(await stores()).toEqual([]);
  });

  it('copies the whole 64 KiB chunk around a first write (later writes in it copy nothing), or only the block with --cow-chunk-kib 4', async () => {
    await using hot = await hotHost();
    const diffBytesAfter = async (options: Record<string, string>, blocks: number[]) => {
      await using image = await sparseImage(16 * MiB, { dir: hot.scratch });
      await using volume = await hotAttach(hot, image.path, options);
      await volume.client.createSnapshot();
      const used: number[] = [];
      {
        using file = DirectFile.open(volume.device, 'r+');
        for (const block of blocks) {
          await file.write(allocAligned(4096).fill(0x33), BigInt(block * 4096));
          used.push((await volume.client.status()).snapshot.diffStoreBytes!);
        }
      }
      const status = await volume.client.status();
      await volume.client.deleteSnapshot();
      return { used, chunk: status.cowChunkBytes };
    };
    // Blocks 17 and 18 share the chunk of blocks 16-31; block 40 starts another.
    expect(await diffBytesAfter({}, [17, 18, 40])).toEqual({ used: [65536, 65536, 131072], chunk: 65536 });
    expect(await diffBytesAfter({ 'cow-chunk-kib': '4' }, [17, 18, 40])).toEqual({ used: [4096, 8192, 12288], chunk: 4096 });
    await using other = await sparseImage(16 * MiB, { dir: hot.scratch });
    await expect(hot.host.executeCommand('shadowdisk.hot-processing.attach', { positionals: [other.path], options: { 'diff-dir': hot.diffDir, 'cow-chunk-kib': '48' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/--cow-chunk-kib must be a power of two/) });
  });

  it('refuses a missing origin, a missing or same-filesystem diff store and a second attach with named codes', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(16 * MiB, { dir: hot.scratch });
    const attach = (origin: string, options: Record<string, string>) => hot.host.executeCommand('shadowdisk.hot-processing.attach', { positionals: [origin], options });
    await expect(attach(`${hot.scratch}/absent.img`, { 'diff-dir': hot.diffDir })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(attach(image.path, {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--diff-dir') });
    await expect(attach(image.path, { 'diff-dir': hot.scratch })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('same filesystem') });
    await expect(attach(image.path, { 'diff-dir': hot.diffDir, 'diff-limit-mib': 'lots' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await using volume = await hotAttach(hot, image.path);
    await expect(attach(image.path, { 'diff-dir': hot.diffDir })).rejects.toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(volume.device) });
    await expect(hot.host.executeCommand('shadowdisk.hot-processing.detach', { positionals: ['/dev/loop-none'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(hot.host.executeCommand('shadowdisk.hot-processing.snapshot-delete', { positionals: [volume.device] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses to detach while the attached device or its snapshot is mounted, and snapshots a mounted ext4 read-only', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(64 * MiB, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    await mkfs(volume.device, 'ext4');
    {
      await using mounted = await mount(volume.device);
      const created = await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-create', { positionals: [volume.device] });
      const snapshot = (created.data as { snapshot: { device: string; frozen: string | null } }).snapshot;
      expect(snapshot.frozen).toBe(mounted.mountpoint);
      expect(loopStatus(snapshot.device)).toMatchObject({ backingFile: `${volume.attachment.mountDir}/snapshot`, readOnly: true });
      await expect(hot.host.executeCommand('shadowdisk.hot-processing.snapshot-create', { positionals: [volume.device] })).rejects.toMatchObject({ code: 'TARGET_BUSY' });
      await expect(hot.host.executeCommand('shadowdisk.hot-processing.detach', { positionals: [volume.device] })).rejects.toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(mounted.mountpoint) });
      const listed = await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-list', { options: { json: true } });
      expect((listed.data as { snapshots: unknown[] }).snapshots).toEqual([expect.objectContaining({ device: volume.device, snapshotDevice: snapshot.device, state: 'active' })]);      {
        // With the volume unmounted, the mounted snapshot alone still holds the detach and its own delete back.
        await using view = await mount(snapshot.device, { options: ['ro', 'noload'] });
        await mounted[Symbol.asyncDispose]();
        await expect(hot.host.executeCommand('shadowdisk.hot-processing.detach', { positionals: [volume.device] })).rejects.toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(view.mountpoint) });
        await expect(hot.host.executeCommand('shadowdisk.hot-processing.snapshot-delete', { positionals: [volume.device] })).rejects.toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(view.mountpoint) });
      }
    }
    await hot.host.executeCommand('shadowdisk.hot-processing.snapshot-delete', { positionals: [volume.device] });
    expect(volume.current()?.snapshot).toBeUndefined();
    expect((await volume.client.status()).snapshot.state).toBe('none');
  });

  it('refuses a mounted block device, then attaches it, holds it exclusively so the original cannot be mounted meanwhile, and passes writes through', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(32 * MiB, { dir: hot.scratch });
    await using origin = await loopDevice(image.path);
    await mkfs(origin.path, 'ext4');
    {
      await using mountedOrigin = await mount(origin.path);
      await expect(hotAttach(hot, origin.path)).rejects.toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(mountedOrigin.mountpoint) });
    }
    await using volume = await hotAttach(hot, origin.path);
    await expect(mount(origin.path)).rejects.toThrow(/busy|in use/i);
    {
      await using mounted = await mount(volume.device);
      await writeFile(join(mounted.mountpoint, 'through.txt'), 'written through the engine');
    }
    await volume[Symbol.asyncDispose]();
    await using direct = await mount(origin.path);
    expect(await readFile(join(direct.mountpoint, 'through.txt'), 'utf8')).toBe('written through the engine');
  });

  it('writes a boot unit with --at-boot that re-attaches the origin after a reboot (a record from an earlier boot is cleared), keeps it through its own shutdown detach, and removes it on a detach by hand', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(16 * MiB, { dir: hot.scratch });
    await using units = await tempDir();
    const attach = (options: Record<string, string | boolean>) => hot.host.executeCommand('shadowdisk.hot-processing.attach', { positionals: [image.path], options: { 'diff-dir': hot.diffDir, ...options } });
    const detach = (options: Record<string, string | boolean> = {}) => hot.host.executeCommand('shadowdisk.hot-processing.detach', { positionals: [image.path], options });
    const first = (await attach({ 'at-boot': true, 'unit-dir': units.path, 'diff-limit-mib': '32' })).data as Attachment;
    const records = new Attachments(dirname(dirname(first.engineDir)));
    try {
    const unitPath = join(units.path, bootUnitName(image.path));
    expect(first.bootUnit).toBe(unitPath);
    const unit = await readFile(unitPath, 'utf8');
    const launcher = join(process.cwd(), 'bin', 'shadowdisk.js');
    const bootArgs = { 'at-boot': true, 'unit-dir': units.path, 'diff-limit-mib': '32' };
    expect(unit).toContain(`ExecStart=${process.execPath} ${launcher} hot attach ${image.path} --diff-dir ${hot.diffDir} --diff-limit-mib 32 --at-boot --unit-dir ${units.path}\n`);
    expect(unit).toContain(`ExecStop=${process.execPath} ${launcher} hot detach ${image.path} --keep-at-boot\n`);
    expect(unit).toMatch(/\[Service\]\nType=oneshot\nRemainAfterExit=yes\n/);
    const verify = await run('systemd-analyze', ['verify', unitPath], { allowFailure: true });
    expect(verify.stderr.trim()).toBe('');
    expect(verify.code).toBe(0);
    // Shutdown: the unit's ExecStop detaches and keeps the unit.
    await detach({ 'keep-at-boot': true });
    expect(existsSync(unitPath)).toBe(true);
    // Boot: the unit's ExecStart attaches again and the attachment still knows its unit.
    const again = (await attach(bootArgs)).data as Attachment;
    expect(await readFile(unitPath, 'utf8')).toBe(unit);
    expect(again.bootUnit).toBe(unitPath);
    // A record left by an earlier boot (its engine and loop device gone with it) does not block the boot's attach.
    await detach({ 'keep-at-boot': true });
    records.save({ ...again, bootId: '00000000-0000-0000-0000-000000000000', pid: 2 ** 22 + 1, device: '/dev/loop-gone' });
    const afterReboot = (await attach(bootArgs)).data as Attachment;
    expect(afterReboot.device).not.toBe('/dev/loop-gone');
    expect(afterReboot.bootUnit).toBe(unitPath);
    // By hand: the volume is not wanted at boot any more.
    const done = (await detach()).data as { bootUnitRemoved?: string };
    expect(done.bootUnitRemoved).toBe(unitPath);
    expect(existsSync(unitPath)).toBe(false);
    } finally {
      if (records.byOrigin(image.path) !== undefined) await detach({ 'keep-at-boot': true });
    }
  });
});
