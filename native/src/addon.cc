// Module entry: registers every concern's functions and constants on one exports object.
#include <napi.h>

#include "modules.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("constants", Napi::Object::New(env));
  shadowdisk::InitFd(env, exports);
  shadowdisk::InitBlockDevice(env, exports);
  shadowdisk::InitBlkpg(env, exports);
  shadowdisk::InitFreeze(env, exports);
  shadowdisk::InitClone(env, exports);
  shadowdisk::InitReflinkCatchUp(env, exports);
  shadowdisk::InitFiemap(env, exports);
  shadowdisk::InitFileBoundaries(env, exports);
  shadowdisk::InitLoop(env, exports);
  shadowdisk::InitDirectIo(env, exports);
  shadowdisk::InitFuseFiles(env, exports);
  shadowdisk::InitMemory(env, exports);
  shadowdisk::InitZstd(env, exports);
  return exports;
}

NODE_API_MODULE(shadowdisk_native, Init)
