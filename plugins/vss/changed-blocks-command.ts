// `shadow changed-blocks <set> <volume> <since-set> <file>`: the blocks of a reflink volume written between two sets,
// from the extent maps of their clones alone (a block written after a clone was copied-on-write, so the two clones
// no longer share it), as the bitmap `image backup --changed-blocks` reads (bit b of byte b/8 = block b, LSB first).
import { statSync, writeFileSync } from 'node:fs';
import { fileExtents } from '../../native/index.js';
import type { CommandArgs, CommandResult } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import { changedRanges } from './providers/extent-delta.js';
import type { ShadowSetRecord, ShadowSets, ShadowSetVolume } from './shadow-sets.js';

interface ReflinkFields {
  backingFile: string;
  clonePath: string;
  geometry: { offsetBytes: string; sizeLimitBytes: string };
}

function reflinkVolume(set: ShadowSetRecord, which: string): ShadowSetVolume & { snapshot: ReflinkFields } {
  const volume = set.volumes.find((v, i) => v.name === which || v.device === which || v.mountpoint === which || String(i) === which);
  if (volume === undefined) throw new ShadowError('NOT_FOUND', `Set ${set.id} has no volume '${which}'; its volumes: ${set.volumes.map((v) => v.name).join(', ')}`);
  if (volume.provider !== 'shadowdisk.vss.reflink' || set.state !== 'complete') {
    throw new ShadowError('UNSUPPORTED', `Changed blocks come from reflink clones of complete sets; ${volume.name} in set ${set.id} is ${set.state}, provider ${volume.provider}`);
  }
  return volume as ShadowSetVolume & { snapshot: ReflinkFields };
}

export function shadowChangedBlocks(sets: ShadowSets, args: CommandArgs): CommandResult {
  const [setId, which, sinceId, file] = args.positionals;
  if (file === undefined) throw new ShadowError('INVALID_ARGUMENT', 'Usage: shadow changed-blocks <set> <volume> <since-set> <file>');
  const blockSize = Number(args.options['block-size'] ?? 4096);
  if (!Number.isInteger(blockSize) || blockSize < 512 || (blockSize & (blockSize - 1)) !== 0) throw new ShadowError('INVALID_ARGUMENT', `--block-size must be a power of two of at least 512, got '${String(args.options['block-size'])}'`);
  const now = reflinkVolume(sets.get(setId!), which!);
  const before = reflinkVolume(sets.get(sinceId!), which!);
  if (now.snapshot.backingFile !== before.snapshot.backingFile || now.snapshot.geometry.offsetBytes !== before.snapshot.geometry.offsetBytes) {
    throw new ShadowError('INVALID_ARGUMENT', `Set ${sinceId} holds ${which} from ${before.snapshot.backingFile}, set ${setId} from ${now.snapshot.backingFile}: not the same volume`);
  }
  const fileBytes = statSync(now.snapshot.clonePath).size;
  const offset = Number(now.snapshot.geometry.offsetBytes);
  const limit = Number(now.snapshot.geometry.sizeLimitBytes);
  const volumeBytes = limit > 0 ? Math.min(limit, fileBytes - offset) : fileBytes - offset;
  const ranges = changedRanges(fileExtents(before.snapshot.clonePath), fileExtents(now.snapshot.clonePath), BigInt(fileBytes));
  const blocks = Math.ceil(volumeBytes / blockSize);
  const bitmap = new Uint8Array(Math.ceil(blocks / 8));
  let changed = 0;
  for (const range of ranges) {
    const start = Math.max(0, Number(range.offsetBytes) - offset);
    const end = Math.min(volumeBytes, Number(range.offsetBytes + range.lengthBytes) - offset);
    for (let b = Math.floor(start / blockSize); b * blockSize < end; b++) {
      if ((bitmap[b >> 3]! & (1 << (b & 7))) === 0) changed++;
      bitmap[b >> 3]! |= 1 << (b & 7);
    }
  }
  writeFileSync(file, bitmap);
  return {
    data: { set: setId, since: sinceId, volume: now.name, blockSize, blocks, changedBlocks: changed, file },
    text: `${changed} of ${blocks} blocks of ${now.name} (${blockSize} bytes each) changed between set ${sinceId} and set ${setId}; map in ${file}`,
  };
}
