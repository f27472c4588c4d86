// Builds Node-style errno errors so TypeScript callers can branch on `code` and users read which call failed where.
#include "errors.h"

#include <string.h>

namespace shadowdisk {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);  // glibc >= 2.32
  return name != nullptr ? std::string(name) : "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall, const std::string& path,
                       const std::string& detail, const std::string& dest) {
  const std::string code = ErrnoName(err);
  std::string message = syscall + " failed on '" + path + "'";
  if (!dest.empty()) message += " -> '" + dest + "'";
  message += ": " + (detail.empty() ? std::string(strerror(err)) : detail) + " (" + code + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, path));
  if (!dest.empty()) error.Set("dest", Napi::String::New(env, dest));
  return error;
}

void ThrowErrno(Napi::Env env, int err, const std::string& syscall, const std::string& path,
                const std::string& detail, const std::string& dest) {
  throw ErrnoError(env, err, syscall, path, detail, dest);
}

}  // namespace shadowdisk
