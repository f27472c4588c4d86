// Loads the compiled addon once, from <repo>/native/build/Release, whether this module runs as native/*.ts or dist/native/*.js.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One FIEMAP extent as the addon returns it. */
export interface RawExtent {
  logicalBytes: bigint;
  physicalBytes: bigint;
  lengthBytes: bigint;
  flags: number;
}

export interface RawLoopStatus {
  number: number;
  offsetBytes: bigint;
  sizeLimitBytes: bigint;
  flags: number;
  fileName: string;
}

type ByteCount = bigint | number;

/** The addon's exports (native/src/*.cc); private to native/, the public API wraps it path by path. */
export interface NativeBinding {
  readonly constants: Readonly<Record<
    | 'O_RDONLY' | 'O_WRONLY' | 'O_RDWR' | 'O_CREAT' | 'O_TRUNC' | 'O_EXCL' | 'O_DIRECT' | 'O_DIRECTORY'
    | 'FIEMAP_FLAG_SYNC' | 'FIEMAP_EXTENT_LAST' | 'FIEMAP_EXTENT_UNKNOWN' | 'FIEMAP_EXTENT_DELALLOC' | 'FIEMAP_EXTENT_ENCODED'
    | 'FIEMAP_EXTENT_DATA_ENCRYPTED' | 'FIEMAP_EXTENT_NOT_ALIGNED' | 'FIEMAP_EXTENT_DATA_INLINE' | 'FIEMAP_EXTENT_DATA_TAIL'
    | 'FIEMAP_EXTENT_UNWRITTEN' | 'FIEMAP_EXTENT_MERGED' | 'FIEMAP_EXTENT_SHARED'
    | 'LO_FLAGS_READ_ONLY' | 'LO_FLAGS_AUTOCLEAR' | 'LO_FLAGS_PARTSCAN' | 'LO_FLAGS_DIRECT_IO' | 'LO_NAME_SIZE',
    number
  >>;
  open(path: string, flags: number, mode?: number): number;
  close(fd: number, path: string): void;
  blkGetSize64(fd: number, path: string): bigint;
  blkSszGet(fd: number, path: string): number;
  blkPbszGet(fd: number, path: string): number;
  blkFlsBuf(fd: number, path: string): void;
  blkDiscard(fd: number, path: string, offsetBytes: ByteCount, lengthBytes: ByteCount): void;
  blkpgAdd(fd: number, path: string, partno: number, startBytes: ByteCount, lengthBytes: ByteCount): void;
  blkpgDelete(fd: number, path: string, partno: number): void;
  blkpgResize(fd: number, path: string, partno: number, startBytes: ByteCount, lengthBytes: ByteCount): void;
  fiFreeze(fd: number, path: string): void;
  syncFs(fd: number, path: string): void;
  fiThaw(fd: number, path: string): void;
  fiClone(srcFd: number, srcPath: string, destFd: number, destPath: string): void;
  fiCloneRange(srcFd: number, srcPath: string, srcOffset: ByteCount, length: ByteCount, destFd: number, destPath: string, destOffset: ByteCount): void;
  reflinkCatchUp(sourcePath: string, clonePath: string, cloneMap: Float64Array | null, remap: boolean): Promise<{ ranges: number; bytes: number; cloneMap?: Float64Array }>;
  fiemap(fd: number, path: string, startBytes: ByteCount, flags: number, maxExtents: number): RawExtent[];
  fileBoundaries(root: string): Promise<{ offsets: Float64Array; files: number }>;
  loopCtlGetFree(controlFd: number, path: string): number;
  loopConfigure(
    loopFd: number, path: string, backingFd: number, blockSize: number,
    offsetBytes: ByteCount, sizeLimitBytes: ByteCount, flags: number, fileName: string,
  ): void;
  loopClrFd(loopFd: number, path: string): void;
  loopGetStatus64(loopFd: number, path: string): RawLoopStatus;
  allocAligned(sizeBytes: number, alignment: number): Buffer;
  pread(fd: number, path: string, buffer: Uint8Array, offsetBytes: ByteCount, alignment: number): Promise<number>;
  pwrite(fd: number, path: string, buffer: Uint8Array, offsetBytes: ByteCount, alignment: number): Promise<number>;
  fuseFilesMount(
    mountpoint: string, files: readonly { name: string; size: ByteCount }[],
    onRead: (id: number, file: number, offsetBytes: number, lengthBytes: number) => void, maxThreads: number,
  ): number;
  fuseFilesReply(handle: number, id: number, bytes: Uint8Array): boolean;
  fuseFilesReplyError(handle: number, id: number, errno: number): boolean;
  fuseFilesUnmount(handle: number, lazy: boolean): Promise<number>;
  tuneAllocator(mmapThresholdBytes: number, trimThresholdBytes: number): boolean;
  zstdCompressInto(src: Uint8Array, dst: Uint8Array, dstOffset: number, dstCapacity: number, level: number): number;
  zstdDecompressInto(src: Uint8Array, dst: Uint8Array): number;
}

const ADDON_RELATIVE_PATH = join('native', 'build', 'Release', 'shadowdisk_native.node');

let binding: NativeBinding | undefined;

/** Where the addon is: the first `native/build/Release/shadowdisk_native.node` above this module (the repository root). */
export function addonPath(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, ADDON_RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(`Cannot load the native addon: no '${ADDON_RELATIVE_PATH}' in '${start}' or any folder above it; run 'npm run build:native'`);
    }
  }
}

/** The addon, loaded on first use so that importing native/ for its types never needs a build. */
export function native(): NativeBinding {
  binding ??= createRequire(import.meta.url)(addonPath()) as NativeBinding;
  return binding;
}
