// Argument readers shared by the bindings: they throw TypeError/RangeError instead of letting bad input reach a syscall.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace shadowdisk {

int FdArg(const Napi::CallbackInfo& info, size_t index);
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name);
// Accepts a non-negative BigInt or a non-negative safe integer Number.
uint64_t U64Arg(const Napi::CallbackInfo& info, size_t index, const char* name);
uint32_t U32Arg(const Napi::CallbackInfo& info, size_t index, const char* name);
// A Buffer or Uint8Array; its memory stays valid while the JS value is referenced.
Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t index, const char* name);

}  // namespace shadowdisk
