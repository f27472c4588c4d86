// Collects sealed chunks into packs of several MiB and uploads each with its index: the pack first (named by the
// SHA-256 of its bytes), then index/PACK. A chunk is reusable by later backups once its index is written, so a backup
// killed midway leaves every finished pack usable and nothing visible but unreferenced data.
import { createHash } from 'node:crypto';
import type { EncodedBlob } from './chunk-blob.js';
import { indexKey, packKey, type PackIndex, type Repository } from './repository.js';

/**
 * Packs end after a chunk whose id is an anchor (1 in 8) once they hold 4 MiB, and at 16 MiB at the latest: cut points
 * chosen by content, like chunks, so two machines storing the same run of new chunks make byte-identical packs (see
 * sealDeterministic) even when what came before differed.
 */
export const PACK_MIN_BYTES = 4 * 1024 * 1024;
export const PACK_MAX_BYTES = 16 * 1024 * 1024;
const isAnchor = (id: string) => (parseInt(id.slice(0, 2), 16) & 7) === 0;
const UPLOADS_IN_FLIGHT = 3;
const HOLD_MAX_BYTES = 64 * 1024 * 1024;

export class PackWriter {
  private blobs: EncodedBlob[] = [];
  private bytes = 0;
  private readonly uploads = new Set<Promise<void>>();
  private failure: unknown;
  packsWritten = 0;
  bytesUploaded = 0;

  /**
   * `avoid`: pack names a prune has marked for deletion; a pack that would get one is sealed differently.
   * `keep`: asked for each chunk when its pack is cut; a chunk it refuses (another writer now stores it) is left out.
   */
  /** `indexed`: told each pack whose index this writer has written. */
  constructor(private readonly repository: Repository, private readonly avoid: ReadonlySet<string> = new Set(), private readonly keep: (id: string) => boolean = () => true, private readonly holdUntil = 0, private readonly indexed: (pack: string) => void = () => undefined) {}

  private held: EncodedBlob[] = [];
  private heldBytes = 0;

  /**
   * Until `holdUntil` (and up to HOLD_MAX_BYTES), chunks are held back rather than packed: writers started together
   * get time to see each other's locks, so `keep` can leave to a peer what it will store anyway.
   */
  async add(blob: EncodedBlob): Promise<void> {
    if (Date.now() < this.holdUntil && this.heldBytes < HOLD_MAX_BYTES) {
      this.held.push(blob);
      this.heldBytes += blob.sealed.length;
      return;
    }
    await this.release();
    await this.append(blob);
  }

  private async release(): Promise<void> {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const blob of held) await this.append(blob);
  }

  private async append(blob: EncodedBlob): Promise<void> {
    if (this.failure) throw this.failure;
    this.blobs.push(blob);
    this.bytes += blob.sealed.length;
    if ((this.bytes >= PACK_MIN_BYTES && isAnchor(blob.id)) || this.bytes >= PACK_MAX_BYTES) await this.cut();
  }

  /** Uploads what is pending and waits for every upload. */
  async flush(): Promise<void> {
    await this.release();
    if (this.blobs.length > 0) await this.cut();
    while (this.uploads.size > 0) await Promise.race(this.uploads);
    if (this.failure) throw this.failure;
  }

  /** Waits for uploads already started, without throwing (on the way out of a failed backup). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.uploads]);
  }

  private async cut(): Promise<void> {
    const blobs = this.blobs.filter((b) => this.keep(b.id));
    this.blobs = [];
    this.bytes = 0;
    if (blobs.length === 0) return;
    const index: PackIndex = { pack: '', blobs: [] };
    let offset = 0;
    for (const blob of blobs) {
      index.blobs.push([blob.id, offset, blob.sealed.length, blob.plainLength]);
      offset += blob.sealed.length;
    }
    // The pack also carries its own index (sealed, then its length), so a lost index can be rebuilt from the pack.
    const packOf = (header: Buffer) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(header.length);
      return Buffer.concat([...blobs.map((b) => b.sealed), header, length]);
    };
    let pack = packOf(this.repository.sealJsonDeterministic(index.blobs, 'pack header'));
    index.pack = createHash('sha256').update(pack).digest('hex');
    if (this.avoid.has(index.pack)) {
      // A prune may delete that name at any moment: this pack must live under another.
      pack = packOf(this.repository.sealJson(index.blobs, 'pack header'));
      index.pack = createHash('sha256').update(pack).digest('hex');
    }
    const upload = (async () => {
      await this.repository.store.put(packKey(index.pack), pack);
      const sealedIndex = this.repository.sealJsonDeterministic(index, 'index');
      await this.repository.store.put(indexKey(index.pack), sealedIndex);
      await this.repository.cacheIndex(indexKey(index.pack), sealedIndex);
      this.indexed(index.pack);
      this.packsWritten++;
      this.bytesUploaded += pack.length;
    })();
    const tracked = upload.catch((error: unknown) => {
      this.failure ??= error;
    }).finally(() => this.uploads.delete(tracked));
    this.uploads.add(tracked);
    while (this.uploads.size >= UPLOADS_IN_FLIGHT) await Promise.race(this.uploads);
    if (this.failure) throw this.failure;
  }
}
