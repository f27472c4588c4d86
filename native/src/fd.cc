// open/close with our error shape, so path-based wrappers report a missing device like any other native failure.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "args.h"
#include "constants.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

// open(path, flags, mode = 0o666) -> fd; O_CLOEXEC is always added so child processes never inherit device fds.
static Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "path");
  int flags = static_cast<int>(U32Arg(info, 1, "flags"));
  mode_t mode = info.Length() > 2 && !info[2].IsUndefined() ? static_cast<mode_t>(U32Arg(info, 2, "mode")) : 0666;
  int fd;
  do fd = open(path.c_str(), flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) ThrowErrno(info.Env(), errno, "open", path);
  return Napi::Number::New(info.Env(), fd);
}

// close(fd, path); EINTR is not retried (Linux has released the fd already).
static Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  if (close(fd) < 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close", path);
  return info.Env().Undefined();
}

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  SetConstant(env, exports, "O_RDONLY", O_RDONLY);
  SetConstant(env, exports, "O_WRONLY", O_WRONLY);
  SetConstant(env, exports, "O_RDWR", O_RDWR);
  SetConstant(env, exports, "O_CREAT", O_CREAT);
  SetConstant(env, exports, "O_TRUNC", O_TRUNC);
  SetConstant(env, exports, "O_EXCL", O_EXCL);
  SetConstant(env, exports, "O_DIRECT", O_DIRECT);
  SetConstant(env, exports, "O_DIRECTORY", O_DIRECTORY);
}

}  // namespace shadowdisk
