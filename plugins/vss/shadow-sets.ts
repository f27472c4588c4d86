// Snapshot sets in the plugin's state folder: one durable JSON record per set (written before the freeze with the
// planned snapshots, so a crash leaves enough to remove them) and a folder of files kept with it (backup_label...).
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowError, type ExposedSnapshot, type ProviderSnapshotRecord, type WriterComponent } from '../../sdk/index.js';
import { listStateFiles, readStateFile, writeStateFileDurably } from '../../sdk/node.js';

export interface ShadowSetVolume {
  name: string;
  device: string | undefined;
  mountpoint: string | undefined;
  fsType: string | undefined;
  /** The snapshot provider's id. */
  provider: string;
  snapshot: ProviderSnapshotRecord;
  /** Set once the snapshot is readable. */
  exposed?: ExposedSnapshot;
  /** Where `shadow mount` mounted it. */
  mountedOn?: string;
}

export interface ShadowSetWriter {
  id: string;
  components: WriterComponent[];
  /** Files the writer kept with the set, in the set's folder. */
  files: string[];
}

export interface ShadowSetRecord {
  id: string;
  /** `creating` until every snapshot is taken and exposed; a set left `creating` is the remains of a crash. */
  state: 'creating' | 'complete';
  createdAt: string;
  volumes: ShadowSetVolume[];
  writers: ShadowSetWriter[];
  /** The folder holding the writers' files. */
  folder: string;
  timings?: { writersFreezeMs: number; flushAndHoldMs: number; totalMs: number; holdParts: { freezeMs: number; commitMs: number; thawMs: number } };
}

export class ShadowSets {
  constructor(private readonly dir: string) {}

  newId(): string {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    return `${stamp}-${randomBytes(3).toString('hex')}`;
  }

  folderOf(id: string): string {
    const folder = join(this.dir, 'sets', id);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    return folder;
  }

  list(): ShadowSetRecord[] {
    return listStateFiles(join(this.dir, 'records')).map((file) => JSON.parse(readStateFile(file) ?? '{}') as ShadowSetRecord)
      .filter((s) => typeof s.id === 'string')
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  get(id: string): ShadowSetRecord {
    const found = this.list().find((s) => s.id === id);
    if (found === undefined) {
      const known = this.list().map((s) => s.id).join(', ');
      throw new ShadowError('NOT_FOUND', `No shadow set '${id}'${known ? `; sets: ${known}` : '; there are none'}. List them with 'shadow list'`);
    }
    return found;
  }

  save(record: ShadowSetRecord): void {
    writeStateFileDurably(this.fileOf(record.id), record);
  }

  remove(id: string): void {
    rmSync(join(this.dir, 'sets', id), { recursive: true, force: true });
    rmSync(this.fileOf(id), { force: true });
  }

  private fileOf(id: string): string {
    return join(this.dir, 'records', `${id}.json`);
  }
}
