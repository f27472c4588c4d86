// Saved boot code: the 440 bytes before the table, kept in the state directory before every boot-code write so that
// `disk boot-code restore` can put them back. One JSON file per save, named after the disk and the time.
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { ShadowError } from '../../sdk/index.js';
import { listStateFiles, readStateFile, writeStateFileDurably } from '../../sdk/node.js';

export interface BootCodeBackup {
  disk: string;
  sizeBytes: number;
  /** The MBR disk signature (bytes 440-443, hex), to tell disks apart that later take the same name. */
  diskSignature: string;
  reason: 'before-install' | 'before-restore';
  savedAt: string;
  codeHex: string;
  sha256: string;
}

export class BootCodeStore {
  readonly #dir: string;
  constructor(storagePath: string) {
    this.#dir = join(storagePath, 'boot-code');
  }

  save(backup: Omit<BootCodeBackup, 'sha256' | 'savedAt'>): { path: string; backup: BootCodeBackup } {
    const savedAt = new Date().toISOString();
    const full: BootCodeBackup = { ...backup, savedAt, sha256: createHash('sha256').update(Buffer.from(backup.codeHex, 'hex')).digest('hex') };
    const path = join(this.#dir, `${basename(backup.disk)}-${savedAt.replace(/[:.]/g, '-')}-${backup.reason}.json`);
    writeStateFileDurably(path, full);
    return { path, backup: full };
  }

  /** Backups of `disk` (same path, size and disk signature), oldest first. */
  list(disk: string, sizeBytes: number, diskSignature: string): { path: string; backup: BootCodeBackup }[] {
    return listStateFiles(this.#dir)
      .map((path) => ({ path, backup: JSON.parse(readStateFile(path)!) as BootCodeBackup }))
      .filter(({ backup }) => backup.disk === disk && backup.sizeBytes === sizeBytes && backup.diskSignature === diskSignature)
      .sort((a, b) => a.backup.savedAt.localeCompare(b.backup.savedAt));
  }

  static read(path: string): BootCodeBackup {
    const text = readStateFile(path);
    if (text === undefined) throw new ShadowError('NOT_FOUND', `No boot-code backup at '${path}'`);
    const backup = JSON.parse(text) as BootCodeBackup;
    const code = Buffer.from(backup.codeHex ?? '', 'hex');
    if (code.length !== 440 || createHash('sha256').update(code).digest('hex') !== backup.sha256) {
      throw new ShadowError('IMAGE_CORRUPT', `Boot-code backup '${path}' is damaged: expected 440 bytes matching its SHA-256, got ${code.length} bytes`);
    }
    return backup;
  }
}
