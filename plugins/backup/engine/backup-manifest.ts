// The manifest the backup engine stores in an image: where each stream of data came from and which of its blocks are in it.
export const MANIFEST_KIND = 'shadowdisk-backup';
export const MANIFEST_VERSION = 1;

/**
 * A stream is a region of the source that the image holds part of. Its data sits in the image "packed": only the
 * included blocks, in ascending order, so chunk boundaries do not depend on how fragmented the filesystem is.
 * Included blocks are given either by `extents` (byte ranges, for table sectors and the boot gap) or by a `bitmap`
 * (one bit per block of `blockSize`, LSB first, base64, for filesystems).
 */
export interface StreamManifest {
  readonly id: number;
  readonly kind: 'table' | 'gap' | 'partition' | 'volume';
  /** The partition's number on the source disk (kind 'partition'). */
  readonly partition?: number;
  /** Where the stream starts on the source, in bytes from its start. */
  readonly startBytes: number;
  readonly sizeBytes: number;
  readonly filesystem: string;
  /** How the included blocks were chosen: 'ext4 block bitmaps', 'table sectors', 'all blocks, zero blocks elided'... */
  readonly method: string;
  readonly blockSize: number;
  readonly extents?: readonly { offsetBytes: number; lengthBytes: number }[];
  readonly bitmap?: string;
  /** Bytes of the included (used) data; an incremental image stores only its changed segments of it. */
  readonly packedBytes: number;
  /**
   * The excluded blocks held zeros (the filesystem was unknown, so every non-zero block was kept): a restore writes
   * zeros there, since a used-but-zero block is data. Excluded blocks of a known filesystem are free and not written.
   */
  readonly zeroElided?: boolean;
}

export interface BackupManifest {
  readonly kind: typeof MANIFEST_KIND;
  readonly version: typeof MANIFEST_VERSION;
  readonly createdAt: string;
  readonly source: { readonly path: string; readonly kind: 'disk' | 'volume'; readonly sizeBytes: number; readonly sectorSize: number };
  /** The partition table as read at backup time (disk sources). */
  /** As the partition plugin's `part show --json` reports it (layout JSON and sfdisk-style dump); opaque here. */
  readonly table: { readonly kind: 'mbr' | 'gpt' | 'none'; readonly layout: unknown; readonly sfdiskDump: string | null } | null;
  readonly streams: readonly StreamManifest[];
  /** Incremental/differential images: the image this one holds the changes since (resolved next to this image). */
  readonly parent?: { readonly imageId: string; readonly file: string; readonly mode: 'incremental' | 'differential' };
  /**
   * Change detection: every filesystem stream is cut into segments of `segmentBytes` of the disk; the image's last
   * stream (`segmentsStream`) holds, per filesystem stream, a keyed hash of each segment and which segments it stores.
   * The key (base64) is shared along a chain, so a child compares its hashes with its parent's.
   */
  readonly segments?: { readonly bytes: number; readonly key: string; readonly stream: number };
}
