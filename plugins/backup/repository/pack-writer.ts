// Collects sealed chunks into packs of several MiB and uploads each with its index: the pack first (named by the
// SHA-256 of its bytes), then index/PACK. A chunk is reusable by later backups once its index is written, so a backup
// killed midway leaves every finished pack usable and nothing visible but unreferenced data.
import { createHash } from 'node:crypto';
import type { EncodedBlob } from './chunk-blob.js';
import { indexKey, packKey, type ChunkLocation, type PackIndex, type Repository } from './repository.js';

export const PACK_TARGET_BYTES = 8 * 1024 * 1024;
const UPLOADS_IN_FLIGHT = 3;

export class PackWriter {
  private blobs: EncodedBlob[] = [];
  private bytes = 0;
  private readonly uploads = new Set<Promise<void>>();
  private failure: unknown;
  packsWritten = 0;
  bytesUploaded = 0;

  constructor(private readonly repository: Repository, private readonly onIndexed?: (pack: string, entries: Map<string, ChunkLocation>) => void, private readonly targetBytes = PACK_TARGET_BYTES) {}

  async add(blob: EncodedBlob): Promise<void> {
    if (this.failure) throw this.failure;
    this.blobs.push(blob);
    this.bytes += blob.sealed.length;
    if (this.bytes >= this.targetBytes) await this.cut();
  }

  /** Uploads what is pending and waits for every upload. */
  async flush(): Promise<void> {
    if (this.blobs.length > 0) await this.cut();
    while (this.uploads.size > 0) await Promise.race(this.uploads);
    if (this.failure) throw this.failure;
  }

  /** Waits for uploads already started, without throwing (on the way out of a failed backup). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.uploads]);
  }

  private async cut(): Promise<void> {
    const blobs = this.blobs;
    this.blobs = [];
    this.bytes = 0;
    const index: PackIndex = { pack: '', blobs: [] };
    let offset = 0;
    for (const blob of blobs) {
      index.blobs.push([blob.id, offset, blob.sealed.length, blob.plainLength]);
      offset += blob.sealed.length;
    }
    // The pack also carries its own index (sealed, then its length), so a lost index can be rebuilt from the pack.
    const header = this.repository.sealJson(index.blobs, 'pack header');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    const pack = Buffer.concat([...blobs.map((b) => b.sealed), header, length]);
    index.pack = createHash('sha256').update(pack).digest('hex');
    const upload = (async () => {
      await this.repository.store.put(packKey(index.pack), pack);
      await this.repository.store.put(indexKey(index.pack), this.repository.sealJson(index, 'index'));
      this.packsWritten++;
      this.bytesUploaded += pack.length;
      this.onIndexed?.(index.pack, new Map(index.blobs.map(([id, o, l, p]) => [id, { pack: index.pack, offset: o, length: l, plainLength: p }])));
    })();
    const tracked = upload.catch((error: unknown) => {
      this.failure ??= error;
    }).finally(() => this.uploads.delete(tracked));
    this.uploads.add(tracked);
    while (this.uploads.size >= UPLOADS_IN_FLIGHT) await Promise.race(this.uploads);
    if (this.failure) throw this.failure;
  }
}
