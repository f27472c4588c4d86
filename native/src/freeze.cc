// FIFREEZE/FITHAW: suspend and resume writes to a mounted filesystem, for consistent snapshots of its device.
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

static Napi::Value FreezeIoctl(const Napi::CallbackInfo& info, unsigned long request, const char* syscall) {
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  int unused = 0;
  int rc;
  do rc = ioctl(fd, request, &unused);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(info.Env(), errno, syscall, path);
  return info.Env().Undefined();
}

// fiFreeze(fd, path): fd of the mountpoint (or any file on the filesystem).
static Napi::Value FiFreeze(const Napi::CallbackInfo& info) { return FreezeIoctl(info, FIFREEZE, "ioctl(FIFREEZE)"); }

// fiThaw(fd, path)
static Napi::Value FiThaw(const Napi::CallbackInfo& info) { return FreezeIoctl(info, FITHAW, "ioctl(FITHAW)"); }

// syncFs(fd, path): syncfs(2), everything of that filesystem to its device, without freezing it.
static Napi::Value SyncFs(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  if (syncfs(fd) < 0) ThrowErrno(info.Env(), errno, "syncfs", path);
  return info.Env().Undefined();
}

void InitFreeze(Napi::Env env, Napi::Object exports) {
  exports.Set("syncFs", Napi::Function::New(env, SyncFs, "syncFs"));
  exports.Set("fiFreeze", Napi::Function::New(env, FiFreeze, "fiFreeze"));
  exports.Set("fiThaw", Napi::Function::New(env, FiThaw, "fiThaw"));
}

}  // namespace shadowdisk
