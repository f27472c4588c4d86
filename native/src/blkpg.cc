// BLKPG: tells the kernel to add, delete or resize one partition node of a disk, without rereading its table.
#include <errno.h>
#include <linux/blkpg.h>
#include <sys/ioctl.h>

#include <climits>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

static void Blkpg(const Napi::CallbackInfo& info, int op, const char* syscall, bool withRange) {
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  uint32_t partno = U32Arg(info, 2, "partno");
  if (partno == 0 || partno > INT_MAX) throw Napi::RangeError::New(info.Env(), "Expected partno to be a positive integer");
  blkpg_partition partition;
  std::memset(&partition, 0, sizeof partition);
  partition.pno = static_cast<int>(partno);
  if (withRange) {
    uint64_t start = U64Arg(info, 3, "startBytes");
    uint64_t length = U64Arg(info, 4, "lengthBytes");
    if (start > LLONG_MAX || length > LLONG_MAX) throw Napi::RangeError::New(info.Env(), "Partition range exceeds 2^63 bytes");
    partition.start = static_cast<long long>(start);
    partition.length = static_cast<long long>(length);
  }
  blkpg_ioctl_arg arg;
  std::memset(&arg, 0, sizeof arg);
  arg.op = op;
  arg.datalen = sizeof partition;
  arg.data = &partition;
  int rc;
  do rc = ioctl(fd, BLKPG, &arg);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(info.Env(), errno, syscall, path);
}

// blkpgAdd(fd, path, partno, startBytes, lengthBytes)
static Napi::Value BlkpgAdd(const Napi::CallbackInfo& info) {
  Blkpg(info, BLKPG_ADD_PARTITION, "ioctl(BLKPG_ADD_PARTITION)", true);
  return info.Env().Undefined();
}

// blkpgDelete(fd, path, partno)
static Napi::Value BlkpgDelete(const Napi::CallbackInfo& info) {
  Blkpg(info, BLKPG_DEL_PARTITION, "ioctl(BLKPG_DEL_PARTITION)", false);
  return info.Env().Undefined();
}

// blkpgResize(fd, path, partno, startBytes, lengthBytes); the kernel refuses to move the start.
static Napi::Value BlkpgResize(const Napi::CallbackInfo& info) {
  Blkpg(info, BLKPG_RESIZE_PARTITION, "ioctl(BLKPG_RESIZE_PARTITION)", true);
  return info.Env().Undefined();
}

void InitBlkpg(Napi::Env env, Napi::Object exports) {
  exports.Set("blkpgAdd", Napi::Function::New(env, BlkpgAdd, "blkpgAdd"));
  exports.Set("blkpgDelete", Napi::Function::New(env, BlkpgDelete, "blkpgDelete"));
  exports.Set("blkpgResize", Napi::Function::New(env, BlkpgResize, "blkpgResize"));
}

}  // namespace shadowdisk
