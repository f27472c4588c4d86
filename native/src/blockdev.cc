// Block device queries and maintenance ioctls: size, sector sizes, buffer flush, discard.
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

static void Ioctl(const Napi::CallbackInfo& info, int fd, const std::string& path, unsigned long request, void* arg,
                  const char* syscall) {
  int rc;
  do rc = ioctl(fd, request, arg);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(info.Env(), errno, syscall, path);
}

// blkGetSize64(fd, path) -> bigint bytes
static Napi::Value BlkGetSize64(const Napi::CallbackInfo& info) {
  uint64_t size = 0;
  Ioctl(info, FdArg(info, 0), StringArg(info, 1, "path"), BLKGETSIZE64, &size, "ioctl(BLKGETSIZE64)");
  return Napi::BigInt::New(info.Env(), size);
}

// blkSszGet(fd, path) -> logical sector size
static Napi::Value BlkSszGet(const Napi::CallbackInfo& info) {
  int size = 0;
  Ioctl(info, FdArg(info, 0), StringArg(info, 1, "path"), BLKSSZGET, &size, "ioctl(BLKSSZGET)");
  return Napi::Number::New(info.Env(), size);
}

// blkPbszGet(fd, path) -> physical sector size
static Napi::Value BlkPbszGet(const Napi::CallbackInfo& info) {
  unsigned int size = 0;
  Ioctl(info, FdArg(info, 0), StringArg(info, 1, "path"), BLKPBSZGET, &size, "ioctl(BLKPBSZGET)");
  return Napi::Number::New(info.Env(), size);
}

// blkFlsBuf(fd, path): writes back and drops the device's buffer cache.
static Napi::Value BlkFlsBuf(const Napi::CallbackInfo& info) {
  Ioctl(info, FdArg(info, 0), StringArg(info, 1, "path"), BLKFLSBUF, nullptr, "ioctl(BLKFLSBUF)");
  return info.Env().Undefined();
}

// blkDiscard(fd, path, offsetBytes, lengthBytes); the fd must be open for writing.
static Napi::Value BlkDiscard(const Napi::CallbackInfo& info) {
  uint64_t range[2] = {U64Arg(info, 2, "offsetBytes"), U64Arg(info, 3, "lengthBytes")};
  Ioctl(info, FdArg(info, 0), StringArg(info, 1, "path"), BLKDISCARD, range, "ioctl(BLKDISCARD)");
  return info.Env().Undefined();
}

void InitBlockDevice(Napi::Env env, Napi::Object exports) {
  exports.Set("blkGetSize64", Napi::Function::New(env, BlkGetSize64, "blkGetSize64"));
  exports.Set("blkSszGet", Napi::Function::New(env, BlkSszGet, "blkSszGet"));
  exports.Set("blkPbszGet", Napi::Function::New(env, BlkPbszGet, "blkPbszGet"));
  exports.Set("blkFlsBuf", Napi::Function::New(env, BlkFlsBuf, "blkFlsBuf"));
  exports.Set("blkDiscard", Napi::Function::New(env, BlkDiscard, "blkDiscard"));
}

}  // namespace shadowdisk
