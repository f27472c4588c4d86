// One initialiser per concern; addon.cc calls them all to build the module's exports.
#pragma once

#include <napi.h>

namespace shadowdisk {

void InitFd(Napi::Env env, Napi::Object exports);
void InitBlockDevice(Napi::Env env, Napi::Object exports);
void InitBlkpg(Napi::Env env, Napi::Object exports);
void InitFreeze(Napi::Env env, Napi::Object exports);
void InitClone(Napi::Env env, Napi::Object exports);
void InitReflinkCatchUp(Napi::Env env, Napi::Object exports);
void InitFiemap(Napi::Env env, Napi::Object exports);
void InitFileBoundaries(Napi::Env env, Napi::Object exports);
void InitLoop(Napi::Env env, Napi::Object exports);
void InitDirectIo(Napi::Env env, Napi::Object exports);
void InitFuseFiles(Napi::Env env, Napi::Object exports);
void InitMemory(Napi::Env env, Napi::Object exports);
void InitZstd(Napi::Env env, Napi::Object exports);

}  // namespace shadowdisk
