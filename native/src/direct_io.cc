// O_DIRECT support: page-aligned buffers and pread/pwrite on the libuv thread pool, so block copies never stall the event loop.
#include <errno.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

// allocAligned(sizeBytes, alignment) -> Buffer over posix_memalign memory, freed when the Buffer is collected.
static Napi::Value AllocAligned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t size = U64Arg(info, 0, "sizeBytes");
  uint64_t alignment = U64Arg(info, 1, "alignment");
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0 || alignment > (1u << 30)) {
    throw Napi::RangeError::New(env, "Expected alignment to be a power of two between " + std::to_string(sizeof(void*)) +
                                         " and 2^30, got " + std::to_string(alignment));
  }
  if (size > (1ull << 40)) throw Napi::RangeError::New(env, "Expected sizeBytes below 2^40");
  void* data = nullptr;
  int err = posix_memalign(&data, alignment, size == 0 ? alignment : size);
  if (err != 0) ThrowErrno(env, err, "posix_memalign", "<memory>");
  return Napi::Buffer<uint8_t>::New(env, static_cast<uint8_t*>(data), size,
                                    [](Napi::Env, uint8_t* memory) { std::free(memory); });
}

class DirectIoWorker : public Napi::AsyncWorker {
 public:
  DirectIoWorker(Napi::Env env, bool write, int fd, std::string path, Napi::Uint8Array buffer, uint64_t offset)
      : Napi::AsyncWorker(env, write ? "shadowdisk.pwrite" : "shadowdisk.pread"),
        deferred_(Napi::Promise::Deferred::New(env)),
        bufferRef_(Napi::Persistent(buffer)),
        write_(write),
        fd_(fd),
        path_(std::move(path)),
        data_(buffer.Data()),
        length_(buffer.ByteLength()),
        offset_(offset) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    ssize_t done;
    do done = write_ ? pwrite(fd_, data_, length_, static_cast<off_t>(offset_))
                     : pread(fd_, data_, length_, static_cast<off_t>(offset_));
    while (done < 0 && errno == EINTR);
    if (done < 0) error_ = errno;
    else transferred_ = done;
  }

  void OnOK() override {
    if (error_ != 0) deferred_.Reject(ErrnoError(Env(), error_, write_ ? "pwrite" : "pread", path_).Value());
    else deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(transferred_)));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> bufferRef_;  // keeps the memory alive while the thread pool uses it
  bool write_;
  int fd_;
  std::string path_;
  uint8_t* data_;
  size_t length_;
  uint64_t offset_;
  int error_ = 0;
  ssize_t transferred_ = 0;
};

// pread/pwrite(fd, path, buffer, offsetBytes, alignment) -> Promise<bytes>; one syscall, short counts are the caller's to loop on.
// Address, length and offset are checked against `alignment` first: the kernel's bare EINVAL would not say which one is wrong.
static Napi::Value QueueDirectIo(const Napi::CallbackInfo& info, bool write) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  std::string path = StringArg(info, 1, "path");
  Napi::Uint8Array buffer = BytesArg(info, 2, "buffer");
  uint64_t offset = U64Arg(info, 3, "offsetBytes");
  uint64_t alignment = U64Arg(info, 4, "alignment");
  const char* syscall = write ? "pwrite" : "pread";
  if (offset > INT64_MAX) throw Napi::RangeError::New(env, "Expected offsetBytes below 2^63");
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw Napi::RangeError::New(env, "Expected alignment to be a power of two");
  uintptr_t address = reinterpret_cast<uintptr_t>(buffer.Data());
  if (address % alignment != 0) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(address));
    ThrowErrno(env, EINVAL, syscall, path,
               std::string("buffer address ") + hex + " is not a multiple of " + std::to_string(alignment) +
                   " bytes as O_DIRECT requires; allocate it with allocAligned() and slice at multiples of the alignment");
  }
  if (buffer.ByteLength() % alignment != 0) {
    ThrowErrno(env, EINVAL, syscall, path,
               "buffer length " + std::to_string(buffer.ByteLength()) + " is not a multiple of " + std::to_string(alignment) +
                   " bytes as O_DIRECT requires");
  }
  if (offset % alignment != 0) {
    ThrowErrno(env, EINVAL, syscall, path,
               "offset " + std::to_string(offset) + " is not a multiple of " + std::to_string(alignment) +
                   " bytes as O_DIRECT requires");
  }
  auto* worker = new DirectIoWorker(env, write, fd, path, buffer, offset);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

static Napi::Value Pread(const Napi::CallbackInfo& info) { return QueueDirectIo(info, false); }
static Napi::Value Pwrite(const Napi::CallbackInfo& info) { return QueueDirectIo(info, true); }

void InitDirectIo(Napi::Env env, Napi::Object exports) {
  exports.Set("allocAligned", Napi::Function::New(env, AllocAligned, "allocAligned"));
  exports.Set("pread", Napi::Function::New(env, Pread, "pread"));
  exports.Set("pwrite", Napi::Function::New(env, Pwrite, "pwrite"));
}

}  // namespace shadowdisk
