import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../sdk/index.js';
import { FOOTER_SIZE, HEADER_SIZE, RECORD_HEADER_SIZE, TRAILER_FIXED_SIZE, INDEX_ENTRY_SIZE } from './image-format.js';
import { encodeImageHeader, MANIFEST_ENCODING_RAW, parseImageHeader } from './image-header.js';
import { memoryImageSource } from './image-io.js';
import { ImageReader, type ImageSource } from './image-reader.js';
import { encodeFooter, encodeTrailer, parseTrailer, trailerLength } from './image-trailer.js';
import { encryptedOptions, expectCode, flipByte, PASSPHRASE, readEverything, samplePieces, writeImage } from './image-test-data.js';

interface Layout {
  manifestEnd: number;
  records: { offset: number; length: number }[];
  trailerOffset: number;
  size: number;
}

async function layoutOf(bytes: Uint8Array, passphrase?: string): Promise<Layout> {
  const reader = await ImageReader.open(memoryImageSource(bytes), passphrase ? { passphrase } : {});
  return {
    manifestEnd: HEADER_SIZE + reader.header.manifestStoredLength,
    records: reader.chunks.map((c) => ({ offset: c.fileOffset, length: RECORD_HEADER_SIZE + c.storedLength })),
    trailerOffset: bytes.length - FOOTER_SIZE - trailerLength(reader.chunks.length),
    size: bytes.length,
  };
}

function swapRecords(bytes: Uint8Array, a: { offset: number; length: number }, b: { offset: number; length: number }): Uint8Array {
  expect(a.length).toBe(b.length);
  const copy = Uint8Array.from(bytes);
  copy.set(bytes.subarray(a.offset, a.offset + a.length), b.offset);
  copy.set(bytes.subarray(b.offset, b.offset + b.length), a.offset);
  return copy;
}

/** What someone without the passphrase can do: rebuild every unkeyed hash (header SHA, trailer SHA, image SHA) around new content. */
function rehash(header: Uint8Array, manifest: Uint8Array, chunks: Uint8Array, oldTrailer: Uint8Array, reorder = (i: number) => i): Uint8Array {
  const parsed = parseImageHeader(header);
  const trailer = parseTrailer(oldTrailer, undefined);
  const manifestEnd = HEADER_SIZE + manifest.length;
  const delta = manifestEnd - trailer.entries[0]!.fileOffset;
  const positions = trailer.entries.map((e) => e.fileOffset + delta);
  const entries = trailer.entries.map((_, i) => ({ ...trailer.entries[reorder(i)]!, fileOffset: positions[i]! }));
  const front = Buffer.concat([header, manifest, chunks]);
  const newTrailer = encodeTrailer({ imageDigest: createHash('sha256').update(front).digest(), manifestSha256: parsed.manifestSha256, entries }, undefined);
  const footer = encodeFooter({ trailerOffset: front.length, trailerLength: newTrailer.length }, parsed.imageIdBytes);
  return new Uint8Array(Buffer.concat([front, newTrailer, footer]));
}

async function attempt(bytes: Uint8Array, passphrase?: string): Promise<void> {
  await readEverything(await ImageReader.open(memoryImageSource(bytes), passphrase ? { passphrase } : {}));
}

describe.each([
  { name: 'unencrypted', encrypted: false, keyed: 'IMAGE_CORRUPT' as ErrorCode },
  { name: 'encrypted', encrypted: true, keyed: 'IMAGE_TAMPERED' as ErrorCode },
])('a damaged $name image', ({ encrypted, keyed }) => {
  const passphrase = encrypted ? PASSPHRASE : undefined;
  let good: Uint8Array;
  let layout: Layout;
  beforeAll(async () => {
    good = await writeImage(samplePieces(), encrypted ? encryptedOptions() : {});
    layout = await layoutOf(good, passphrase);
  });

  it('is read and verified when undamaged', async () => {
    await attempt(good, passphrase);
  });

  const flips: [string, (l: Layout) => number, ErrorCode | 'keyed'][] = [
    ['the header magic', () => 0, 'IMAGE_CORRUPT'],
    ['the header format version', () => 8, 'IMAGE_CORRUPT'],
    ['the header chunk size', () => 41, 'IMAGE_CORRUPT'],
    ['the header salt or reserved bytes', () => 70, 'IMAGE_CORRUPT'],
    ['the header SHA-256', () => 240, 'IMAGE_CORRUPT'],
    ['the manifest', () => HEADER_SIZE + 3, 'keyed'],
    ['the manifest end', (l) => l.manifestEnd - 1, 'keyed'],
    ['a raw chunk payload', (l) => l.records[0]!.offset + RECORD_HEADER_SIZE + 100, 'keyed'],
    ['a zstd chunk payload', (l) => l.records[3]!.offset + RECORD_HEADER_SIZE + 10, 'keyed'],
    ['the last chunk payload byte', (l) => l.records[7]!.offset + l.records[7]!.length - 1, 'keyed'],
    ['a chunk record header stream id', (l) => l.records[2]!.offset + 24, 'IMAGE_CORRUPT'],
    ['a zero chunk record header', (l) => l.records[5]!.offset + 30, 'IMAGE_CORRUPT'],
    ['an index entry', (l) => l.trailerOffset + TRAILER_FIXED_SIZE + 2 * INDEX_ENTRY_SIZE + 5, 'keyed'],
    ['the trailer image digest', (l) => l.trailerOffset + 30, 'keyed'],
    ['the trailer digest', (l) => l.size - FOOTER_SIZE - 1, 'keyed'],
    ['the footer trailer offset', (l) => l.size - FOOTER_SIZE + 2, 'IMAGE_CORRUPT'],
    ['the footer magic', (l) => l.size - 1, 'IMAGE_CORRUPT'],
  ];
  it.each(flips)('fails with the named code for one flipped byte in %s', async (_, where, code) => {
    await expectCode(attempt(flipByte(good, where(layout)), passphrase), code === 'keyed' ? keyed : code);
  });

  it('fails as corrupt when truncated anywhere', async () => {
    const points = [0, 10, HEADER_SIZE - 1, HEADER_SIZE + 5, layout.records[2]!.offset + 90, layout.trailerOffset, layout.trailerOffset + 50, layout.size - FOOTER_SIZE, layout.size - 1];
    for (const point of points) {
      const message = await expectCode(attempt(good.subarray(0, point), passphrase), 'IMAGE_CORRUPT');
      expect(message).toMatch(/truncated/);
    }
  });

  it('fails as corrupt when two chunks are swapped in the file', async () => {
    const message = await expectCode(attempt(swapRecords(good, layout.records[0]!, layout.records[1]!), passphrase), 'IMAGE_CORRUPT');
    expect(message).toMatch(/out of place/);
  });

  it('fails when two chunks are swapped in the file and in the index', async () => {
    const swapped = swapRecords(good, layout.records[0]!, layout.records[1]!);
    if (!encrypted) {
      const rebuilt = rehash(swapped.subarray(0, HEADER_SIZE), swapped.subarray(HEADER_SIZE, layout.manifestEnd), swapped.subarray(layout.manifestEnd, layout.trailerOffset),
        swapped.subarray(layout.trailerOffset, layout.size - FOOTER_SIZE), (i) => (i === 0 ? 1 : i === 1 ? 0 : i));
      expect(await expectCode(attempt(rebuilt), 'IMAGE_CORRUPT')).toMatch(/out of place/);
    } else {
      // Without the MAC key the index cannot be rewritten: any edit of it fails its HMAC.
      const entry0 = layout.trailerOffset + TRAILER_FIXED_SIZE;
      const copy = Uint8Array.from(swapped);
      copy.set(swapped.subarray(entry0 + INDEX_ENTRY_SIZE + 8, entry0 + 2 * INDEX_ENTRY_SIZE), entry0 + 8);
      copy.set(swapped.subarray(entry0 + 8, entry0 + INDEX_ENTRY_SIZE), entry0 + INDEX_ENTRY_SIZE + 8);
      await expectCode(attempt(copy, passphrase), 'IMAGE_TAMPERED');
    }
  });

  it('fails when a chunk of another image is spliced in', async () => {
    // Same data and passphrase for the encrypted case: only the image's own key and id tell the chunks apart.
    const other = await writeImage(samplePieces(encrypted ? 1 : 2), encrypted ? encryptedOptions() : {});
    const otherLayout = await layoutOf(other, passphrase);
    const { offset, length } = layout.records[0]!;
    expect(otherLayout.records[0]!.length).toBe(length);
    const spliced = Uint8Array.from(good);
    spliced.set(other.subarray(otherLayout.records[0]!.offset, otherLayout.records[0]!.offset + length), offset);
    await expectCode(attempt(spliced, passphrase), encrypted ? 'IMAGE_TAMPERED' : 'IMAGE_CORRUPT');
  });

  it('fails when a record header is edited and its CRC fixed: the whole-image digest catches it', async () => {
    const { offset } = layout.records[1]!;
    const edited = Uint8Array.from(good);
    edited[offset + 72] = 0x55;
    new DataView(edited.buffer).setUint32(offset + 76, crc32(edited.subarray(offset, offset + 76)), true);
    const reader = await ImageReader.open(memoryImageSource(edited), passphrase ? { passphrase } : {});
    await reader.readChunk(1);
    await expectCode(reader.verify(), keyed);
  });

  it('fails when the manifest is edited', async () => {
    await expectCode(attempt(flipByte(good, HEADER_SIZE + 20), passphrase), keyed);
  });

  it('refuses a header edited and re-hashed, before reading any chunk', async () => {
    const header = parseImageHeader(good.subarray(0, HEADER_SIZE));
    const edited = Uint8Array.from(good);
    edited.set(encodeImageHeader({ ...header, createdAtMs: header.createdAtMs + 1 }), 0);
    // Unencrypted, the whole-image SHA-256 catches it (unless that is rebuilt too, see the next test); encrypted, the manifest's GCM tag does at open.
    await expectCode(attempt(edited, passphrase), keyed);
  });
});

describe('an unencrypted image re-hashed consistently after an edit', () => {
  it('opens and verifies with the edited manifest: undetectable by design, only encryption authenticates', async () => {
    const good = await writeImage(samplePieces(), {});
    const layout = await layoutOf(good);
    const header = parseImageHeader(good.subarray(0, HEADER_SIZE));
    const forgedJson = new TextEncoder().encode(JSON.stringify({ forged: true }));
    const forgedHeader = encodeImageHeader({
      ...header,
      manifestStoredLength: forgedJson.length,
      manifestPlainLength: forgedJson.length,
      manifestEncoding: MANIFEST_ENCODING_RAW,
      manifestSha256: createHash('sha256').update(forgedJson).digest(),
    });
    const chunks = good.subarray(layout.manifestEnd, layout.trailerOffset);
    const forged = rehash(forgedHeader, forgedJson, chunks, good.subarray(layout.trailerOffset, layout.size - FOOTER_SIZE));
    const reader = await ImageReader.open(memoryImageSource(forged));
    expect(reader.manifest).toEqual({ forged: true });
    await reader.verify();
    // Without the re-hash the same edit is caught.
    const naive = Uint8Array.from(good);
    naive.set(forgedJson.subarray(0, 5), HEADER_SIZE);
    await expectCode(attempt(naive), 'IMAGE_CORRUPT');
  });
});

describe('passphrases', () => {
  let image: Uint8Array;
  beforeAll(async () => {
    image = await writeImage(samplePieces(), encryptedOptions());
  });

  it('tells a wrong passphrase apart from tampering, reading nothing past the header and footer', async () => {
    const reads: [number, number][] = [];
    const inner = memoryImageSource(image);
    const logged: ImageSource = { size: inner.size, read: (offset, length) => (reads.push([offset, length]), inner.read(offset, length)) };
    const message = await expectCode(ImageReader.open(logged, { passphrase: 'wrong horse' }), 'WRONG_PASSPHRASE');
    expect(message).toMatch(/passphrase/);
    expect(reads.every(([offset, length]) => offset + length <= HEADER_SIZE || offset === image.length - FOOTER_SIZE)).toBe(true);
  });

  it('asks for the passphrase of an encrypted image', async () => {
    expect(await expectCode(ImageReader.open(memoryImageSource(image)), 'INVALID_ARGUMENT')).toMatch(/encrypted and no passphrase/);
  });

  it('refuses a passphrase for an unencrypted image, so a swapped-in unencrypted image cannot pass as the encrypted one', async () => {
    const plain = await writeImage(samplePieces(), {});
    await expectCode(ImageReader.open(memoryImageSource(plain), { passphrase: PASSPHRASE }), 'INVALID_ARGUMENT');
  });
});
