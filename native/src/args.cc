// Validation of JS arguments at the native boundary; TypeScript validates first, this only keeps C++ memory-safe.
#include "args.h"

#include <cmath>

namespace shadowdisk {

static Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

int FdArg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Value value = Arg(info, index);
  if (!value.IsNumber()) throw Napi::TypeError::New(info.Env(), "Expected a file descriptor (number)");
  double fd = value.As<Napi::Number>().DoubleValue();
  if (fd < 0 || fd > 2147483647 || std::floor(fd) != fd) {
    throw Napi::RangeError::New(info.Env(), "Expected a file descriptor, got " + std::to_string(fd));
  }
  return static_cast<int>(fd);
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsString()) throw Napi::TypeError::New(info.Env(), std::string("Expected ") + name + " to be a string");
  return value.As<Napi::String>().Utf8Value();
}

uint64_t U64Arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (value.IsBigInt()) {
    bool lossless = false;
    uint64_t result = value.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(info.Env(), std::string("Expected ") + name + " to be in 0..2^64-1");
    return result;
  }
  if (value.IsNumber()) {
    double number = value.As<Napi::Number>().DoubleValue();
    if (number < 0 || number > 9007199254740991.0 || std::floor(number) != number) {
      throw Napi::RangeError::New(info.Env(), std::string("Expected ") + name + " to be a non-negative safe integer");
    }
    return static_cast<uint64_t>(number);
  }
  throw Napi::TypeError::New(info.Env(), std::string("Expected ") + name + " to be a bigint or number");
}

uint32_t U32Arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  uint64_t value = U64Arg(info, index, name);
  if (value > 0xffffffffull) throw Napi::RangeError::New(info.Env(), std::string("Expected ") + name + " to fit in 32 bits");
  return static_cast<uint32_t>(value);
}

Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string("Expected ") + name + " to be a Buffer or Uint8Array");
  }
  return value.As<Napi::Uint8Array>();
}

}  // namespace shadowdisk
