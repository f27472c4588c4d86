// Publishes kernel constants to TypeScript under exports.constants, so TS never hard-codes header values.
#pragma once

#include <napi.h>

namespace shadowdisk {

inline void SetConstant(Napi::Env env, Napi::Object exports, const char* name, double value) {
  exports.Get("constants").As<Napi::Object>().Set(name, Napi::Number::New(env, value));
}

}  // namespace shadowdisk
