// FICLONE/FICLONERANGE: reflink copies that share extents instead of copying data (XFS, btrfs).
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

// fiClone(srcFd, srcPath, destFd, destPath)
static Napi::Value FiClone(const Napi::CallbackInfo& info) {
  int srcFd = FdArg(info, 0);
  std::string srcPath = StringArg(info, 1, "srcPath");
  int destFd = FdArg(info, 2);
  std::string destPath = StringArg(info, 3, "destPath");
  int rc;
  do rc = ioctl(destFd, FICLONE, srcFd);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(info.Env(), errno, "ioctl(FICLONE)", srcPath, "", destPath);
  return info.Env().Undefined();
}

// fiCloneRange(srcFd, srcPath, srcOffset, length, destFd, destPath, destOffset); length 0 means "to the end of src".
static Napi::Value FiCloneRange(const Napi::CallbackInfo& info) {
  file_clone_range range;
  range.src_fd = FdArg(info, 0);
  std::string srcPath = StringArg(info, 1, "srcPath");
  range.src_offset = U64Arg(info, 2, "srcOffset");
  range.src_length = U64Arg(info, 3, "length");
  int destFd = FdArg(info, 4);
  std::string destPath = StringArg(info, 5, "destPath");
  range.dest_offset = U64Arg(info, 6, "destOffset");
  int rc;
  do rc = ioctl(destFd, FICLONERANGE, &range);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(info.Env(), errno, "ioctl(FICLONERANGE)", srcPath, "", destPath);
  return info.Env().Undefined();
}

void InitClone(Napi::Env env, Napi::Object exports) {
  exports.Set("fiClone", Napi::Function::New(env, FiClone, "fiClone"));
  exports.Set("fiCloneRange", Napi::Function::New(env, FiCloneRange, "fiCloneRange"));
}

}  // namespace shadowdisk
