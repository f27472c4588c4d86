// The table backup file: the sectors that hold a disk's partition table, with the geometry and a SHA-256 over both.
// Written before every apply and by `part backup`; read by `part restore-table` and by recovery.
import { createHash } from 'node:crypto';
import { ShadowError } from '../../../sdk/index.js';
import type { DiskGeometry } from '../table/layout.js';
import type { SectorReader, SectorWrite } from '../table/sector-io.js';

const MAGIC = 'SHADOWDISK-TABLE-BACKUP 1';

export interface TableBackupHeader {
  magic: typeof MAGIC;
  disk: string;
  geometry: DiskGeometry;
  createdAt: string;
  ranges: { lba: number; count: number }[];
  sha256: string;
}

/** Captures `ranges` from the disk. */
export function captureTableBackup(disk: string, geometry: DiskGeometry, read: SectorReader, ranges: readonly { lba: number; count: number }[]): Uint8Array {
  const chunks = ranges.map((r) => read(r.lba, r.count));
  const body = concat(chunks);
  const header: TableBackupHeader = { magic: MAGIC, disk, geometry: { ...geometry }, createdAt: new Date().toISOString(), ranges: ranges.map((r) => ({ ...r })), sha256: digest(geometry, ranges, body) };
  return concat([new TextEncoder().encode(`${JSON.stringify(header)}\n`), body]);
}

/** Parses and verifies a backup file; TABLE_CORRUPT-free, it names what is wrong as IMAGE_CORRUPT or IMAGE_TAMPERED. */
export function parseTableBackup(file: Uint8Array, source: string): { header: TableBackupHeader; writes: SectorWrite[] } {
  const newline = file.indexOf(0x0a);
  let header: TableBackupHeader;
  try {
    if (newline < 0) throw new Error('no header line');
    header = JSON.parse(new TextDecoder().decode(file.subarray(0, newline))) as TableBackupHeader;
    if (header.magic !== MAGIC) throw new Error(`magic is '${String(header.magic)}'`);
  } catch (error) {
    throw new ShadowError('IMAGE_CORRUPT', `${source} is not a Shadowdisk table backup (${(error as Error).message})`);
  }
  const body = file.subarray(newline + 1);
  const expected = header.ranges.reduce((n, r) => n + r.count, 0) * header.geometry.sectorSize;
  if (body.length !== expected) throw new ShadowError('IMAGE_CORRUPT', `${source} holds ${body.length} bytes of sectors but its header lists ${expected}; the file is truncated`);
  if (digest(header.geometry, header.ranges, body) !== header.sha256) throw new ShadowError('IMAGE_TAMPERED', `${source} does not match its SHA-256; it was changed after it was written`);
  let offset = 0;
  const writes = header.ranges.map((r) => {
    const bytes = body.slice(offset, offset + r.count * header.geometry.sectorSize);
    offset += bytes.length;
    return { lba: r.lba, bytes };
  });
  return { header, writes };
}

function digest(geometry: DiskGeometry, ranges: readonly { lba: number; count: number }[], body: Uint8Array): string {
  return createHash('sha256').update(JSON.stringify({ geometry, ranges })).update(body).digest('hex');
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
