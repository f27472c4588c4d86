// `image restore`: verify the whole image first (nothing is written from a damaged, tampered or wrongly keyed image),
// check the target (size, sector size, not mounted), then write every chunk back where it came from.
import { flushBlockDevice } from '../../../native/index.js';
import type { RunContext } from '../../../sdk/index.js';
import { placeStream } from './chain-layout.js';
import type { ChainLink } from './image-chain.js';
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
  // Only the chunks that still hold wanted bytes are read: a block rewritten in a newer link is never decoded.
  const work = plan.manifest.streams.map((stream) => ({ stream, placements: placeStream(links, stream) }));
  const total = work.reduce((n, w) => n + w.placements.reduce((m, p) => m + p.pieces.reduce((k, piece) => k + piece.lengthBytes, 0), 0), 0);
  const handle = await openTarget(plan.target, plan.isBlockDevice);
  let done = 0;
  let written = 0;
  try {
    for (const { stream, placements } of work) {
      // The next chunk is read and decoded while this one is written.
      const read = (i: number) => {
        const p = placements[i];
        if (!p) return undefined;
        const pending = links[p.link]!.reader.readChunk(p.chunk);
        pending.catch(() => undefined);
        return pending;
      };
      let next = read(0);
      for (const [i, placement] of placements.entries()) {
        run.signal.throwIfAborted();
        const plain = await next!;
        next = read(i + 1);
        for (const piece of placement.pieces) {
          await handle.write(plain, piece.chunkOffset, piece.lengthBytes, piece.offsetBytes);
          written += piece.lengthBytes;
          done += piece.lengthBytes;
        }
        run.progress({ phase: 'restore', done, total });
      }
      await next?.catch(() => undefined);
      if (!stream.extents && stream.zeroElided) written += await zeroExcluded(handle, stream, Buffer.from(stream.bitmap ?? '', 'base64'));
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (plan.isBlockDevice) flushBlockDevice(plan.target);
  return written;
}

