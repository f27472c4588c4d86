// Loop device control: find a free device, bind it to a file in one LOOP_CONFIGURE call, read its status, unbind it.
#include <errno.h>
#include <linux/loop.h>
#include <sys/ioctl.h>

#include <cstring>

#include "args.h"
#include "constants.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

static int LoopIoctl(int fd, unsigned long request, void* arg) {
  int rc;
  do rc = ioctl(fd, request, arg);
  while (rc < 0 && errno == EINTR);
  return rc;
}

// loopCtlGetFree(controlFd, path) -> N of a free /dev/loopN (created by the kernel if needed)
static Napi::Value LoopCtlGetFree(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  int rc;
  do rc = ioctl(fd, LOOP_CTL_GET_FREE);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(info.Env(), errno, "ioctl(LOOP_CTL_GET_FREE)", path);
  return Napi::Number::New(info.Env(), rc);
}

// loopConfigure(loopFd, path, backingFd, blockSize, offsetBytes, sizeLimitBytes, flags, fileName)
// EBUSY means another process bound the device first; the caller retries with a new free device.
static Napi::Value LoopConfigure(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  loop_config config;
  std::memset(&config, 0, sizeof config);
  config.fd = static_cast<uint32_t>(FdArg(info, 2));
  config.block_size = U32Arg(info, 3, "blockSize");
  config.info.lo_offset = U64Arg(info, 4, "offsetBytes");
  config.info.lo_sizelimit = U64Arg(info, 5, "sizeLimitBytes");
  config.info.lo_flags = U32Arg(info, 6, "flags");
  std::string fileName = StringArg(info, 7, "fileName");
  std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), fileName.c_str(), LO_NAME_SIZE - 1);
  if (LoopIoctl(fd, LOOP_CONFIGURE, &config) < 0) ThrowErrno(info.Env(), errno, "ioctl(LOOP_CONFIGURE)", path);
  return info.Env().Undefined();
}

// loopClrFd(loopFd, path): if others hold the device open the kernel defers the detach to their last close.
static Napi::Value LoopClrFd(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  if (LoopIoctl(fd, LOOP_CLR_FD, nullptr) < 0) ThrowErrno(info.Env(), errno, "ioctl(LOOP_CLR_FD)", path);
  return info.Env().Undefined();
}

// loopGetStatus64(loopFd, path) -> {number, offsetBytes, sizeLimitBytes, flags, fileName}; ENXIO when unbound.
static Napi::Value LoopGetStatus64(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  loop_info64 status;
  std::memset(&status, 0, sizeof status);
  if (LoopIoctl(fd, LOOP_GET_STATUS64, &status) < 0) ThrowErrno(env, errno, "ioctl(LOOP_GET_STATUS64)", path);
  Napi::Object result = Napi::Object::New(env);
  result.Set("number", Napi::Number::New(env, status.lo_number));
  result.Set("offsetBytes", Napi::BigInt::New(env, static_cast<uint64_t>(status.lo_offset)));
  result.Set("sizeLimitBytes", Napi::BigInt::New(env, static_cast<uint64_t>(status.lo_sizelimit)));
  result.Set("flags", Napi::Number::New(env, status.lo_flags));
  result.Set("fileName", Napi::String::New(env, reinterpret_cast<const char*>(status.lo_file_name),
                                           strnlen(reinterpret_cast<const char*>(status.lo_file_name), LO_NAME_SIZE)));
  return result;
}

void InitLoop(Napi::Env env, Napi::Object exports) {
  exports.Set("loopCtlGetFree", Napi::Function::New(env, LoopCtlGetFree, "loopCtlGetFree"));
  exports.Set("loopConfigure", Napi::Function::New(env, LoopConfigure, "loopConfigure"));
  exports.Set("loopClrFd", Napi::Function::New(env, LoopClrFd, "loopClrFd"));
  exports.Set("loopGetStatus64", Napi::Function::New(env, LoopGetStatus64, "loopGetStatus64"));
  SetConstant(env, exports, "LO_FLAGS_READ_ONLY", LO_FLAGS_READ_ONLY);
  SetConstant(env, exports, "LO_FLAGS_AUTOCLEAR", LO_FLAGS_AUTOCLEAR);
  SetConstant(env, exports, "LO_FLAGS_PARTSCAN", LO_FLAGS_PARTSCAN);
  SetConstant(env, exports, "LO_FLAGS_DIRECT_IO", LO_FLAGS_DIRECT_IO);
  SetConstant(env, exports, "LO_NAME_SIZE", LO_NAME_SIZE);
}

}  // namespace shadowdisk
