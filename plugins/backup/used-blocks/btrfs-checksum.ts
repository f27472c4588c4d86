// The checksum in the first 32 bytes of a btrfs superblock or tree node, over everything after them. crc32c and
// SHA-256 are verified; xxhash64 and BLAKE2b-256 volumes are still read, with only the structural checks.
import { createHash } from 'node:crypto';
import { crc32c } from './crc32c.js';

export const BTRFS_CSUM_NAMES = ['crc32c', 'xxhash64', 'sha256', 'blake2b'] as const;
const CSUM_BYTES = 32;

/** Whether this reader computes the checksum type (the others are read with structural checks only). */
export function isBtrfsChecksumVerified(csumType: number): boolean {
  return BTRFS_CSUM_NAMES[csumType] === 'crc32c' || BTRFS_CSUM_NAMES[csumType] === 'sha256';
}

/** True when the stored checksum matches, false when it does not, undefined when this reader cannot compute the type. */
export function btrfsChecksumMatches(csumType: number, block: Uint8Array): boolean | undefined {
  const covered = block.subarray(CSUM_BYTES);
  switch (BTRFS_CSUM_NAMES[csumType]) {
    case 'crc32c': {
      const crc = crc32c(covered);
      return block[0] === (crc & 0xff) && block[1] === ((crc >>> 8) & 0xff) && block[2] === ((crc >>> 16) & 0xff) && block[3] === crc >>> 24;
    }
    case 'sha256': {
      const digest = createHash('sha256').update(covered).digest();
      return digest.every((byte, i) => byte === block[i]);
    }
    default:
      return undefined;
  }
}

/** The stored checksum's first bytes as hex, to name what was seen in an error. */
export function storedChecksumHex(csumType: number, block: Uint8Array): string {
  const length = BTRFS_CSUM_NAMES[csumType] === 'crc32c' ? 4 : 8;
  return Array.from(block.subarray(0, length), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
