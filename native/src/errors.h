// Turns a failed system call into a JS Error shaped like Node's own (errno, code, syscall, path); every native error goes through here.
#pragma once

#include <napi.h>

#include <string>

namespace shadowdisk {

// The symbolic name of an errno value ("ENOTTY"), or "E<number>" when the C library has none.
std::string ErrnoName(int err);

// `<syscall> failed on '<path>': <detail or strerror> (<CODE>)`, with errno (positive), code, syscall and path set;
// `dest` is added (and named in the message) for two-file operations such as FICLONE.
Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall, const std::string& path,
                       const std::string& detail = "", const std::string& dest = "");

[[noreturn]] void ThrowErrno(Napi::Env env, int err, const std::string& syscall, const std::string& path,
                             const std::string& detail = "", const std::string& dest = "");

}  // namespace shadowdisk
