// fileBoundaries(root) -> Promise<{ offsets: Float64Array, files: number }>: the device byte offsets where the
// extents of the regular files under `root` (one filesystem; symbolic links not followed) start and end, sorted and
// distinct, read with FIEMAP. The repository backup cuts its chunks there (file-boundaries.ts). A cold filesystem's
// walk waits mostly on inode and directory reads, so several threads share a stack of directories.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
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
constexpr int kThreads = 4;

class BoundariesWorker : public Napi::AsyncWorker {
 public:
  BoundariesWorker(Napi::Env env, std::string root)
      : Napi::AsyncWorker(env, "shadowdisk.file-boundaries"), deferred_(Napi::Promise::Deferred::New(env)), root_(std::move(root)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    struct stat rootStat;
    if (stat(root_.c_str(), &rootStat) != 0) return Fail(errno, "stat");
    if (!S_ISDIR(rootStat.st_mode)) return Fail(ENOTDIR, "stat");
    rootDev_ = rootStat.st_dev;
    dirs_.push_back(root_);
    std::vector<Found> found(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; i++) threads.emplace_back([this, &found, i] { Walk(found[i]); });
    for (auto& t : threads) t.join();
    for (auto& f : found) {
      files_ += f.files;
      offsets_.insert(offsets_.end(), f.offsets.begin(), f.offsets.end());
    }
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

  struct Found {
    std::vector<double> offsets;
    size_t files = 0;
  };

  // Takes directories off the shared stack until it is empty and no thread is still reading one (which could add more).
  void Walk(Found& found) {
    size_t bytes = sizeof(fiemap) + kExtentsPerCall * sizeof(fiemap_extent);
    std::unique_ptr<fiemap, decltype(&std::free)> map(static_cast<fiemap*>(std::calloc(1, bytes)), &std::free);
    if (!map) return;
    for (;;) {
      std::string dir;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return !dirs_.empty() || busy_ == 0; });
        if (dirs_.empty()) return;
        dir = std::move(dirs_.back());
        dirs_.pop_back();
        busy_++;
      }
      std::vector<std::string> subdirs;
      ReadDirectory(dir, map.get(), found, subdirs);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& d : subdirs) dirs_.push_back(std::move(d));
        busy_--;
      }
      changed_.notify_all();
    }
  }

  void ReadDirectory(const std::string& dir, fiemap* map, Found& found, std::vector<std::string>& subdirs) {
    int dirFd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirFd < 0) return;  // unreadable: no hints from it
    struct stat dirStat;
    if (fstat(dirFd, &dirStat) != 0 || dirStat.st_dev != rootDev_) {
      close(dirFd);  // another filesystem mounted here
      return;
    }
    DIR* handle = fdopendir(dirFd);
    if (handle == nullptr) {
      close(dirFd);
      return;
    }
    while (dirent* entry = readdir(handle)) {
      const char* name = entry->d_name;
      if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
      unsigned char type = entry->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(dirFd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      if (type == DT_DIR) subdirs.push_back(dir + "/" + name);
      if (type != DT_REG) continue;  // regular files only, never a device node or FIFO
      int fd = openat(dirFd, name, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
      if (fd < 0) continue;
      found.files++;
      MapFile(fd, map, found.offsets);
      close(fd);
    }
    closedir(handle);
  }

  static void MapFile(int fd, fiemap* map, std::vector<double>& offsets) {
    for (uint64_t start = 0;;) {
      std::memset(map, 0, sizeof(fiemap));
      map->fm_start = start;
      map->fm_length = FIEMAP_MAX_OFFSET - start;
      map->fm_extent_count = kExtentsPerCall;
      if (ioctl(fd, FS_IOC_FIEMAP, map) < 0 || map->fm_mapped_extents == 0) return;
      const fiemap_extent* last = nullptr;
      for (uint32_t i = 0; i < map->fm_mapped_extents; i++) {
        last = &map->fm_extents[i];
        if ((last->fe_flags & kUnplaced) != 0) continue;
        offsets.push_back(static_cast<double>(last->fe_physical));
        offsets.push_back(static_cast<double>(last->fe_physical + last->fe_length));
      }
      if ((last->fe_flags & FIEMAP_EXTENT_LAST) != 0) return;
      start = last->fe_logical + last->fe_length;
    }
  }

  Napi::Promise::Deferred deferred_;
  std::string root_;
  dev_t rootDev_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> dirs_;
  int busy_ = 0;
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
