// The Shadowdisk image container (docs/image-format.md): chunk codec for workers, sequential writer, random-access reader, I/O edges.
export { encodeChunk, type ChunkMeta, type EncodedChunk } from './chunk-codec.js';
export type { ChunkIndexEntry } from './chunk-record.js';
export { DEFAULT_CHUNK_SIZE, DEFAULT_COMPRESSION_LEVEL, FORMAT_VERSION, type ChunkKind } from './image-format.js';
export type { ImageHeader } from './image-header.js';
export { DEFAULT_KDF, type ChunkKeys, type KdfParams } from './image-keys.js';
export { ImageReader, readImageHeader, type ImageReadOptions, type ImageSource, type VerifyProgress } from './image-reader.js';
export { ImageWriter, type ImageOptions, type ImageSink, type ImageWriteResult } from './image-writer.js';
export {
  fileImageSink, fileImageSource, memoryImageSink, memoryImageSource, streamImageSink,
  type ClosableImageSink, type ClosableImageSource,
} from './image-io.js';
