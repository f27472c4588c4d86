// `image restore`: verify the whole image first (nothing is written from a damaged, tampered or wrongly keyed image),
// check the target (size, sector size, not mounted), then write every chunk back where it came from.
import { flushBlockDevice } from '../../../native/index.js';
import type { RunContext } from '../../../sdk/index.js';
import type { StreamManifest } from './backup-manifest.js';
import { includedRanges, sliceRanges, type SourceRange } from './packed-stream.js';
import type { ChainLink } from './image-chain.js';
import { isStored } from './segments.js';
import { checkTarget, openTarget, zeroExcluded, type RestorePlan } from './restore-target.js';

/** Every check that must pass before a byte is written: every link verified whole, the target big enough and free. */
export async function checkRestore(links: readonly ChainLink[], target: string, run: RunContext): Promise<RestorePlan> {
  for (const [i, link] of links.entries()) {
    run.progress({ phase: links.length > 1 ? `verify ${i + 1}/${links.length}` : 'verify', done: 0, total: 1 });
    await link.reader.verify((p) => run.progress({ phase: links.length > 1 ? `verify ${i + 1}/${links.length}` : 'verify', done: p.bytesDone, total: p.bytesTotal }));
  }
  return checkTarget(links[0]!.manifest, target, 'restore', "the image's");
}

/**
 * Writes the newest state the chain holds. Table sectors and the boot gap come from the newest image; each block a
 * filesystem uses now comes from the newest link that stores it, and blocks it no longer uses are not written at all,
 * so the result equals a full restore of the same state.
 */
export async function writeChain(links: readonly ChainLink[], plan: RestorePlan, run: RunContext): Promise<number> {
  const total = links.reduce((n, l) => n + l.reader.chunks.reduce((m, c) => m + c.plainLength, 0), 0);
  const handle = await openTarget(plan.target, plan.isBlockDevice);
  let done = 0;
  let written = 0;
  try {
    for (const stream of plan.manifest.streams) {
      const newest = links[0]!;
      const wanted = stream.extents ? undefined : blockSet(stream);
      const writtenBlocks = new Uint8Array(wanted?.length ?? 0);
      for (const link of stream.extents ? [newest] : links) {
        const own = link.manifest.streams.find((s) => s.id === stream.id)!;
        const segments = link.segments.get(stream.id);
        const ranges = includedRanges(own, segments && link.manifest.segments ? { segmentBytes: link.manifest.segments.bytes, isStored: (i) => isStored(segments, i) } : undefined);
        for (const chunk of link.reader.chunks) {
          if (chunk.streamId !== stream.id) continue;
          run.signal.throwIfAborted();
          const plain = await link.reader.readChunk(chunk.index);
          let at = 0;
          for (const piece of sliceRanges(ranges, chunk.offsetBytes, chunk.plainLength)) {
            for (const part of wanted ? newBlocksOf(piece, stream, wanted, writtenBlocks) : [{ ...piece, skip: 0 }]) {
              await handle.write(plain, at + part.skip, part.lengthBytes, part.offsetBytes);
              written += part.lengthBytes;
            }
            at += piece.lengthBytes;
          }
          done += chunk.plainLength;
          run.progress({ phase: 'restore', done, total });
        }
      }
      if (wanted && stream.zeroElided) written += await zeroExcluded(handle, stream, wanted);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (plan.isBlockDevice) flushBlockDevice(plan.target);
  return written;
}

function blockSet(stream: StreamManifest): Uint8Array {
  return Buffer.from(stream.bitmap ?? '', 'base64');
}

/** The runs of `piece` whose blocks the final state uses and no newer link wrote, marking them written. */
function newBlocksOf(piece: SourceRange, stream: StreamManifest, wanted: Uint8Array, writtenBlocks: Uint8Array): (SourceRange & { skip: number })[] {
  const out: { offsetBytes: number; lengthBytes: number; skip: number }[] = [];
  const size = stream.blockSize;
  const end = piece.offsetBytes + piece.lengthBytes;
  for (let offset = piece.offsetBytes; offset < end; ) {
    const block = Math.floor((offset - stream.startBytes) / size);
    const blockEnd = Math.min(end, stream.startBytes + (block + 1) * size);
    const bit = 1 << (block & 7);
    const take = (wanted[block >> 3]! & bit) !== 0 && (writtenBlocks[block >> 3]! & bit) === 0;
    if (take) {
      writtenBlocks[block >> 3]! |= bit;
      const last = out.at(-1);
      if (last && last.offsetBytes + last.lengthBytes === offset) last.lengthBytes += blockEnd - offset;
      else out.push({ offsetBytes: offset, lengthBytes: blockEnd - offset, skip: offset - piece.offsetBytes });
    }
    offset = blockEnd;
  }
  return out;
}
