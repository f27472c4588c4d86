// Signatures (filesystem, RAID, LVM, crypto and partition-table magic) found by libblkid's full enumeration, as
// `wipefs` lists them without erasing, and their erasure: the magic bytes zeroed through the device they were found on.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ShadowError } from '../../sdk/index.js';
import { runTool } from '../../sdk/node.js';

export interface Signature {
  /** The device (or file) the magic was found on: a disk or one of its partitions. */
  device: string;
  offsetBytes: number;
  lengthBytes: number;
  type: string;
  usage: string;
  uuid: string | null;
  label: string | null;
}

interface WipefsJson {
  signatures?: { device: string; offset: string; length: number; type: string; usage: string | null; uuid: string | null; label: string | null }[];
}

/** Every signature libblkid enumerates on `device` (read-only: wipefs without --all writes nothing). */
export async function probeSignatures(device: string): Promise<Signature[]> {
  const { stdout } = await runTool('wipefs', ['--json', '--output', 'DEVICE,OFFSET,LENGTH,TYPE,USAGE,UUID,LABEL', device]);
  if (stdout.trim() === '') return [];
  const parsed = JSON.parse(stdout) as WipefsJson;
  return (parsed.signatures ?? []).map((s) => ({
    device, offsetBytes: Number(s.offset), lengthBytes: s.length, type: s.type, usage: s.usage ?? 'unknown', uuid: s.uuid, label: s.label,
  }));
}

/** A signature with the bytes its magic holds now, kept in the wipe journal before erasure so they can be put back by hand. */
export interface SavedSignature extends Signature {
  oldBytesHex: string;
}

/** Reads each signature's magic bytes (read-only). */
export async function readMagic(signatures: readonly Signature[]): Promise<SavedSignature[]> {
  const saved: SavedSignature[] = [];
  for (const [device, list] of Map.groupBy(signatures, (s) => s.device)) {
    const handle = await open(device, 'r');
    try {
      for (const signature of list) {
        const old = Buffer.alloc(signature.lengthBytes);
        await handle.read(old, 0, old.length, signature.offsetBytes);
        saved.push({ ...signature, oldBytesHex: old.toString('hex') });
      }
    } finally {
      await handle.close();
    }
  }
  return saved;
}

/**
 * Zeroes the magic of each signature through its own device, opened exclusively when it is a block device (EBUSY
 * when mounted or held), and flushes it; a partition's signatures go through the partition node so that its page
 * cache sees the change. Returns how many were zeroed.
 */
export async function zeroMagic(signatures: readonly Signature[]): Promise<number> {
  let zeroed = 0;
  for (const [device, list] of Map.groupBy(signatures, (s) => s.device)) {
    let handle;
    try {
      handle = await open(device, (await stat(device)).isBlockDevice() ? constants.O_RDWR | constants.O_EXCL : constants.O_RDWR);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EBUSY') {
        throw new ShadowError('TARGET_BUSY', `Cannot erase signatures on ${device}: the kernel says it is in use (mounted, swap or held)${zeroed ? `; ${zeroed} signature(s) were erased already (the wipe journal holds their bytes)` : '. Nothing was written'}`);
      }
      throw ShadowError.from(error, 'IO_ERROR');
    }
    try {
      for (const signature of list) {
        await handle.write(Buffer.alloc(signature.lengthBytes), 0, signature.lengthBytes, signature.offsetBytes);
        zeroed++;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return zeroed;
}
