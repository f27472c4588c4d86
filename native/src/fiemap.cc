// FIEMAP: one batch of a file's extent map per call; TypeScript loops until FIEMAP_EXTENT_LAST.
#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "args.h"
#include "constants.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

// fiemap(fd, path, startBytes, flags, maxExtents) -> [{logicalBytes, physicalBytes, lengthBytes, flags}]
// Maps [startBytes, end of file); an empty array means no extents at or after startBytes.
static Napi::Value Fiemap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  uint64_t start = U64Arg(info, 2, "startBytes");
  uint32_t flags = U32Arg(info, 3, "flags");
  uint32_t maxExtents = U32Arg(info, 4, "maxExtents");
  if (maxExtents == 0 || maxExtents > 65536) throw Napi::RangeError::New(env, "Expected maxExtents in 1..65536");

  size_t bytes = sizeof(fiemap) + maxExtents * sizeof(fiemap_extent);
  std::unique_ptr<fiemap, decltype(&std::free)> map(static_cast<fiemap*>(std::calloc(1, bytes)), &std::free);
  if (!map) ThrowErrno(env, ENOMEM, "ioctl(FIEMAP)", path);
  map->fm_start = start;
  map->fm_length = FIEMAP_MAX_OFFSET - start;
  map->fm_flags = flags;
  map->fm_extent_count = maxExtents;
  int rc;
  do rc = ioctl(fd, FS_IOC_FIEMAP, map.get());
  while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(env, errno, "ioctl(FIEMAP)", path);

  Napi::Array extents = Napi::Array::New(env, map->fm_mapped_extents);
  for (uint32_t i = 0; i < map->fm_mapped_extents; i++) {
    const fiemap_extent& extent = map->fm_extents[i];
    Napi::Object item = Napi::Object::New(env);
    item.Set("logicalBytes", Napi::BigInt::New(env, static_cast<uint64_t>(extent.fe_logical)));
    item.Set("physicalBytes", Napi::BigInt::New(env, static_cast<uint64_t>(extent.fe_physical)));
    item.Set("lengthBytes", Napi::BigInt::New(env, static_cast<uint64_t>(extent.fe_length)));
    item.Set("flags", Napi::Number::New(env, extent.fe_flags));
    extents.Set(i, item);
  }
  return extents;
}

void InitFiemap(Napi::Env env, Napi::Object exports) {
  exports.Set("fiemap", Napi::Function::New(env, Fiemap, "fiemap"));
  SetConstant(env, exports, "FIEMAP_FLAG_SYNC", FIEMAP_FLAG_SYNC);
  SetConstant(env, exports, "FIEMAP_EXTENT_LAST", FIEMAP_EXTENT_LAST);
  SetConstant(env, exports, "FIEMAP_EXTENT_UNKNOWN", FIEMAP_EXTENT_UNKNOWN);
  SetConstant(env, exports, "FIEMAP_EXTENT_DELALLOC", FIEMAP_EXTENT_DELALLOC);
  SetConstant(env, exports, "FIEMAP_EXTENT_ENCODED", FIEMAP_EXTENT_ENCODED);
  SetConstant(env, exports, "FIEMAP_EXTENT_DATA_ENCRYPTED", FIEMAP_EXTENT_DATA_ENCRYPTED);
  SetConstant(env, exports, "FIEMAP_EXTENT_NOT_ALIGNED", FIEMAP_EXTENT_NOT_ALIGNED);
  SetConstant(env, exports, "FIEMAP_EXTENT_DATA_INLINE", FIEMAP_EXTENT_DATA_INLINE);
  SetConstant(env, exports, "FIEMAP_EXTENT_DATA_TAIL", FIEMAP_EXTENT_DATA_TAIL);
  SetConstant(env, exports, "FIEMAP_EXTENT_UNWRITTEN", FIEMAP_EXTENT_UNWRITTEN);
  SetConstant(env, exports, "FIEMAP_EXTENT_MERGED", FIEMAP_EXTENT_MERGED);
  SetConstant(env, exports, "FIEMAP_EXTENT_SHARED", FIEMAP_EXTENT_SHARED);
}

}  // namespace shadowdisk
