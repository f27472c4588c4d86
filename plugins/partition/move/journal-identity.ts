// An interrupted apply is found by the disk's path, or, when the disk came back under another name (a reboot, a
// re-attached loop device), by its identity: the same geometry and the same disk id (MBR signature or GPT disk GUID).
import { DiskHandle } from '../io/disk-handle.js';
import type { ApplyJournal, JournalStore } from '../ops/apply-journal.js';
import { readDiskTable } from '../table/partition-table.js';

/** The disk id (lower case), read even when an EBR chain is broken; undefined when the disk has no table. */
export function diskIdOf(handle: DiskHandle): string | undefined {
  try {
    return readDiskTable(handle.read, handle.geometry).layout?.diskId.toLowerCase();
  } catch {
    // A moved logical may have overwritten an old EBR: the MBR's own signature is still there.
    const lba0 = handle.read(0, 1);
    if (lba0[510] !== 0x55 || lba0[511] !== 0xaa) return undefined;
    return `0x${new DataView(lba0.buffer, lba0.byteOffset).getUint32(440, true).toString(16).padStart(8, '0')}`;
  }
}

/** The interrupted apply of this disk; one found by identity is re-filed under the disk's present path. */
export function journalForDisk(journals: JournalStore, disk: string, path: string, imageSectorSize?: number): ApplyJournal | undefined {
  const own = journals.load(disk);
  if (own) return own;
  if (journals.pending().every((j) => (j.moves?.length ?? 0) === 0)) return undefined;
  using handle = DiskHandle.open(path, 'r', imageSectorSize);
  const id = diskIdOf(handle);
  if (!id) return undefined;
  const found = journals.pending().filter((j) => (j.moves?.length ?? 0) > 0 && j.target.diskId.toLowerCase() === id
    && j.target.geometry.sectorCount === handle.geometry.sectorCount && j.target.geometry.sectorSize === handle.geometry.sectorSize);
  if (found.length !== 1) return undefined;
  const journal = { ...found[0]!, disk };
  journals.save(journal);
  journals.remove(found[0]!.disk);
  return journal;
}
