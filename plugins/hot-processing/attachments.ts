// The attached volumes, one durable record each in the plugin's state folder, so `hot status|detach|snapshot` find
// the engine, its FUSE directory and the loop devices a former `hot attach` made (even from another process).
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ShadowError } from '../../sdk/index.js';
import { listStateFiles, readStateFile, stateFileFor, writeStateFileDurably } from '../../sdk/node.js';

const RUN_DIR = '/run/shadowdisk/hot';

export interface SnapshotRecord {
  id: number;
  /** The read-only loop device on `<mountDir>/snapshot`. */
  device: string;
  createdAt: string;
}

export interface Attachment {
  origin: string;
  /** The loop device on `<mountDir>/volume`: what to mount instead of the origin. */
  device: string;
  sizeBytes: number;
  engineDir: string;
  mountDir: string;
  controlPath: string;
  logPath: string;
  diffDir: string;
  pid: number;
  attachedAt: string;
  snapshot?: SnapshotRecord;
  /** The boot this attachment was made in (/proc/sys/kernel/random/boot_id): after a reboot the record is stale. */
  bootId?: string;
  /** The systemd unit `hot attach --at-boot` wrote, which attaches the origin again at each boot. */
  bootUnit?: string;
  /** The last `hot backup`: its image and the changed-block generation that began at its cut. */
  lastHotBackup?: { image: string; generation: number; at: string };
}

export class Attachments {
  private readonly dir: string;

  /** `dir` is made absolute: the engine runs from '/' and gets these paths. */
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The folder for one origin's engine: its FUSE mount and log. */
  engineDirFor(origin: string): string {
    const tag = createHash('sha256').update(origin).digest('hex').slice(0, 10);
    return join(this.dir, 'engines', `${basename(origin).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 24)}-${tag}`);
  }

  /** Where the origin's changed-block map survives between attachments (outside the engine folder, which detach removes). */
  changedBlocksFileFor(origin: string): string {
    const tag = createHash('sha256').update(origin).digest('hex').slice(0, 10);
    return join(this.dir, 'changed-blocks', `${basename(origin).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 24)}-${tag}.cbt`);
  }

  /** The engine's control socket, under /run: a socket path must stay under 108 bytes, which a state folder may not. */
  controlPathFor(engineDir: string): string {
    return join(RUN_DIR, `${createHash('sha256').update(engineDir).digest('hex').slice(0, 16)}.sock`);
  }

  list(): Attachment[] {
    return listStateFiles(join(this.dir, 'attached')).map((file) => JSON.parse(readStateFile(file) ?? '{}') as Attachment)
      .filter((a) => typeof a.origin === 'string');
  }

  byOrigin(origin: string): Attachment | undefined {
    return this.list().find((a) => a.origin === origin);
  }

  /** The attachment a user names by its device, its origin, or its snapshot's device. */
  find(name: string): Attachment {
    const found = this.list().find((a) => a.device === name || a.origin === name || a.snapshot?.device === name);
    if (found === undefined) {
      const known = this.list().map((a) => `${a.device} (${a.origin})`).join(', ');
      throw new ShadowError('NOT_FOUND', `'${name}' is not an attached volume${known ? `; attached: ${known}` : '; nothing is attached'}. Attach it with 'hot attach'`);
    }
    return found;
  }

  save(attachment: Attachment): void {
    writeStateFileDurably(this.fileOf(attachment.origin), attachment);
  }

  remove(attachment: Attachment): void {
    rmSync(this.fileOf(attachment.origin), { force: true });
  }

  private fileOf(origin: string): string {
    return stateFileFor(join(this.dir, 'attached'), origin);
  }
}
