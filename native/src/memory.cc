// Allocator tuning for bulk data: with glibc's defaults every multi-MiB buffer is a fresh mmap, so each chunk and
// window costs a page fault per 4 KiB and a munmap; keeping such buffers on the heap lets them be reused.
#include <malloc.h>

#include "args.h"
#include "modules.h"

namespace shadowdisk {

// tuneAllocator(mmapThresholdBytes, trimThresholdBytes) -> true when glibc accepted both.
static Napi::Value TuneAllocator(const Napi::CallbackInfo& info) {
  uint32_t mmapThreshold = U32Arg(info, 0, "mmapThresholdBytes");
  uint32_t trimThreshold = U32Arg(info, 1, "trimThresholdBytes");
  bool ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmapThreshold)) == 1;
  ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(trimThreshold)) == 1 && ok;
  return Napi::Boolean::New(info.Env(), ok);
}

void InitMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("tuneAllocator", Napi::Function::New(env, TuneAllocator, "tuneAllocator"));
}

}  // namespace shadowdisk
