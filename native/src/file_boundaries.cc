// fileBoundaries(root) -> Promise<{ offsets: Float64Array, files: number }>: the device byte offsets where the
// extents of the regular files under `root` (one filesystem; symbolic links not followed) start and end, sorted and
// distinct, read with FIEMAP on libuv's pool. The repository backup cuts its chunks there (file-boundaries.ts).
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

namespace {

// Extents with no place of their own on the device: not yet allocated, inline, packed or encoded.
constexpr uint32_t kUnplaced = FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED |
                               FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_NOT_ALIGNED;
constexpr uint32_t kExtentsPerCall = 256;

class BoundariesWorker : public Napi::AsyncWorker {
 public:
  BoundariesWorker(Napi::Env env, std::string root)
      : Napi::AsyncWorker(env, "shadowdisk.file-boundaries"), deferred_(Napi::Promise::Deferred::New(env)), root_(std::move(root)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    size_t bytes = sizeof(fiemap) + kExtentsPerCall * sizeof(fiemap_extent);
    std::unique_ptr<fiemap, decltype(&std::free)> map(static_cast<fiemap*>(std::calloc(1, bytes)), &std::free);
    if (!map) return Fail(ENOMEM, "calloc");
    char* paths[] = {const_cast<char*>(root_.c_str()), nullptr};
    FTS* fts = fts_open(paths, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, nullptr);
    if (fts == nullptr) return Fail(errno, "fts_open");
    for (FTSENT* entry = fts_read(fts); entry != nullptr; entry = fts_read(fts)) {
      if (entry->fts_info != FTS_F) continue;  // regular files only (lstat), never a device node or FIFO
      int fd = open(entry->fts_accpath, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
      if (fd < 0) continue;  // unreadable: no hint from it
      files_++;
      for (uint64_t start = 0;;) {
        std::memset(map.get(), 0, sizeof(fiemap));
        map->fm_start = start;
        map->fm_length = FIEMAP_MAX_OFFSET - start;
        map->fm_extent_count = kExtentsPerCall;
        if (ioctl(fd, FS_IOC_FIEMAP, map.get()) < 0 || map->fm_mapped_extents == 0) break;
        const fiemap_extent* last = nullptr;
        for (uint32_t i = 0; i < map->fm_mapped_extents; i++) {
          last = &map->fm_extents[i];
          if ((last->fe_flags & kUnplaced) != 0) continue;
          offsets_.push_back(static_cast<double>(last->fe_physical));
          offsets_.push_back(static_cast<double>(last->fe_physical + last->fe_length));
        }
        if ((last->fe_flags & FIEMAP_EXTENT_LAST) != 0) break;
        start = last->fe_logical + last->fe_length;
      }
      close(fd);
    }
    int err = errno;
    fts_close(fts);
    if (err != 0 && err != ENOENT) return Fail(err, "fts_read");
    std::sort(offsets_.begin(), offsets_.end());
    offsets_.erase(std::unique(offsets_.begin(), offsets_.end()), offsets_.end());
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (error_ != 0) return deferred_.Reject(ErrnoError(env, error_, syscall_, root_).Value());
    Napi::Float64Array offsets = Napi::Float64Array::New(env, offsets_.size());
    std::copy(offsets_.begin(), offsets_.end(), offsets.Data());
    Napi::Object result = Napi::Object::New(env);
    result.Set("offsets", offsets);
    result.Set("files", Napi::Number::New(env, static_cast<double>(files_)));
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  void Fail(int err, const char* syscall) {
    error_ = err;
    syscall_ = syscall;
  }

  Napi::Promise::Deferred deferred_;
  std::string root_;
  std::vector<double> offsets_;
  size_t files_ = 0;
  int error_ = 0;
  const char* syscall_ = "";
};

Napi::Value FileBoundaries(const Napi::CallbackInfo& info) {
  std::string root = StringArg(info, 0, "root");
  auto* worker = new BoundariesWorker(info.Env(), root);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitFileBoundaries(Napi::Env env, Napi::Object exports) {
  exports.Set("fileBoundaries", Napi::Function::New(env, FileBoundaries, "fileBoundaries"));
}

}  // namespace shadowdisk
