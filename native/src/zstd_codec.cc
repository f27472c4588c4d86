// zstd frames into and out of caller-owned buffers with one compression and one decompression context per thread,
// reused from chunk to chunk: node:zlib makes a new context and a new output buffer for every call, whose page
// faults and garbage cost more than the compression of a 4 MiB chunk.
#include <zstd.h>
#include <zstd_errors.h>

#include <string>

#include "args.h"
#include "modules.h"

namespace shadowdisk {

namespace {

struct ThreadContexts {
  ZSTD_CCtx* compress = nullptr;
  ZSTD_DCtx* decompress = nullptr;
  ~ThreadContexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
};

thread_local ThreadContexts contexts;

size_t OffsetArg(const Napi::CallbackInfo& info, size_t index, const char* name, size_t limit) {
  uint64_t value = U64Arg(info, index, name);
  if (value > limit) throw Napi::RangeError::New(info.Env(), std::string("Expected ") + name + " to be at most " + std::to_string(limit));
  return static_cast<size_t>(value);
}

// zstdCompressInto(src, dst, dstOffset, dstCapacity, level) -> bytes written at dst[dstOffset], or -1 when the frame
// does not fit in dstCapacity bytes (the caller then stores the data raw).
Napi::Value ZstdCompressInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array src = BytesArg(info, 0, "src");
  Napi::Uint8Array dst = BytesArg(info, 1, "dst");
  size_t offset = OffsetArg(info, 2, "dstOffset", dst.ByteLength());
  size_t capacity = OffsetArg(info, 3, "dstCapacity", dst.ByteLength() - offset);
  int32_t level = info[4].As<Napi::Number>().Int32Value();
  if (contexts.compress == nullptr) contexts.compress = ZSTD_createCCtx();
  ZSTD_CCtx* cctx = contexts.compress;
  if (cctx == nullptr) throw Napi::Error::New(env, "ZSTD_createCCtx failed (out of memory)");
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  size_t rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!ZSTD_isError(rc)) rc = ZSTD_CCtx_setPledgedSrcSize(cctx, src.ByteLength());
  if (ZSTD_isError(rc)) throw Napi::Error::New(env, std::string("zstd: ") + ZSTD_getErrorName(rc));
  size_t written = ZSTD_compress2(cctx, dst.Data() + offset, capacity, src.Data(), src.ByteLength());
  if (ZSTD_isError(written)) {
    if (ZSTD_getErrorCode(written) == ZSTD_error_dstSize_tooSmall) return Napi::Number::New(env, -1);
    throw Napi::Error::New(env, std::string("zstd: ") + ZSTD_getErrorName(written));
  }
  return Napi::Number::New(env, static_cast<double>(written));
}

// zstdDecompressInto(src, dst) -> bytes written; throws naming zstd's error for a damaged frame or one that does not
// fit in dst.
Napi::Value ZstdDecompressInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array src = BytesArg(info, 0, "src");
  Napi::Uint8Array dst = BytesArg(info, 1, "dst");
  if (contexts.decompress == nullptr) contexts.decompress = ZSTD_createDCtx();
  if (contexts.decompress == nullptr) throw Napi::Error::New(env, "ZSTD_createDCtx failed (out of memory)");
  size_t written = ZSTD_decompressDCtx(contexts.decompress, dst.Data(), dst.ByteLength(), src.Data(), src.ByteLength());
  if (ZSTD_isError(written)) throw Napi::Error::New(env, std::string(ZSTD_getErrorName(written)));
  return Napi::Number::New(env, static_cast<double>(written));
}

}  // namespace

void InitZstd(Napi::Env env, Napi::Object exports) {
  exports.Set("zstdCompressInto", Napi::Function::New(env, ZstdCompressInto, "zstdCompressInto"));
  exports.Set("zstdDecompressInto", Napi::Function::New(env, ZstdDecompressInto, "zstdDecompressInto"));
}

}  // namespace shadowdisk
