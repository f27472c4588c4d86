// The disk (or volume) an image chain holds, as it was at the newest backup, as a random-access view: the chain's
// layout says which chunk of which link holds each byte.
import { placeStream } from './chain-layout.js';
import { ExtentView, type ViewChunk, type ViewExtent } from './extent-view.js';
import type { ChainLink } from './image-chain.js';

export type { ViewVolume } from './extent-view.js';

const CACHED_CHUNKS = 16;

export class ChainView extends ExtentView {
  constructor(links: readonly ChainLink[]) {
    const extents: ViewExtent[] = [];
    for (const stream of links[0]!.manifest.streams) {
      for (const placement of placeStream(links, stream)) {
        const { link, chunk: index } = placement;
        const chunk: ViewChunk = { key: `${link}:${index}`, read: () => links[link]!.reader.readChunk(index) };
        for (const piece of placement.pieces) extents.push({ ...piece, chunk });
      }
    }
    super(links[0]!.manifest, extents, CACHED_CHUNKS);
  }
}
