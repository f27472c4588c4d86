// reflinkCatchUp: brings a reflink clone up to its source file's present off the JavaScript thread, so the clones of a
// shadow set catch up in parallel inside the hold. The source's extent map (FIEMAP, synced once) is compared with the
// clone's as it was last seen; every range whose blocks differ is re-cloned (FICLONERANGE). Maps travel as
// Float64Array quadruples [logical, physical, length, flags] (byte offsets stay below 2^53).
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

namespace {

struct Extent {
  double logical, physical, length, flags;
};

constexpr uint32_t kExtentsPerCall = 4096;

// The whole extent map of `fd`; FIEMAP_FLAG_SYNC on the first call only. 0 or an errno.
int ReadMap(int fd, bool sync, std::vector<Extent>& out) {
  size_t bytes = sizeof(fiemap) + kExtentsPerCall * sizeof(fiemap_extent);
  std::unique_ptr<fiemap, decltype(&std::free)> map(static_cast<fiemap*>(std::calloc(1, bytes)), &std::free);
  if (!map) return ENOMEM;
  uint64_t start = 0;
  for (bool first = true;; first = false) {
    std::memset(map.get(), 0, sizeof(fiemap));
    map->fm_start = start;
    map->fm_length = FIEMAP_MAX_OFFSET - start;
    map->fm_flags = sync && first ? FIEMAP_FLAG_SYNC : 0;
    map->fm_extent_count = kExtentsPerCall;
    int rc;
    do rc = ioctl(fd, FS_IOC_FIEMAP, map.get());
    while (rc < 0 && errno == EINTR);
    if (rc < 0) return errno;
    if (map->fm_mapped_extents == 0) return 0;
    for (uint32_t i = 0; i < map->fm_mapped_extents; i++) {
      const fiemap_extent& e = map->fm_extents[i];
      out.push_back({static_cast<double>(e.fe_logical), static_cast<double>(e.fe_physical), static_cast<double>(e.fe_length), static_cast<double>(e.fe_flags)});
    }
    const fiemap_extent& last = map->fm_extents[map->fm_mapped_extents - 1];
    if (last.fe_flags & FIEMAP_EXTENT_LAST) return 0;
    start = last.fe_logical + last.fe_length;
  }
}

// Ranges of [0, size) where a and b map to different blocks (or data on one side, a hole on the other); unwritten
// extents differ from written ones. Merged and in order. The same rule as plugins/vss/providers/extent-delta.ts.
std::vector<std::pair<double, double>> ChangedRanges(const std::vector<Extent>& a, const std::vector<Extent>& b, double size) {
  std::vector<std::pair<double, double>> out;  // [start, end)
  auto mark = [&](double start, double end) {
    if (end <= start) return;
    if (!out.empty() && out.back().second == start) out.back().second = end;
    else out.emplace_back(start, end);
  };
  auto unwritten = [](const Extent& e) { return (static_cast<uint32_t>(e.flags) & FIEMAP_EXTENT_UNWRITTEN) != 0; };
  size_t i = 0, j = 0;
  double pos = 0;
  while (pos < size) {
    while (i < a.size() && a[i].logical + a[i].length <= pos) i++;
    while (j < b.size() && b[j].logical + b[j].length <= pos) j++;
    const Extent* x = i < a.size() ? &a[i] : nullptr;
    const Extent* y = j < b.size() ? &b[j] : nullptr;
    bool inX = x != nullptr && x->logical <= pos;
    bool inY = y != nullptr && y->logical <= pos;
    double next = size;
    if (x != nullptr) next = std::min(next, inX ? x->logical + x->length : x->logical);
    if (y != nullptr) next = std::min(next, inY ? y->logical + y->length : y->logical);
    bool same = inX == inY && (!inX || (x->physical + (pos - x->logical) == y->physical + (pos - y->logical) && unwritten(*x) == unwritten(*y)));
    if (!same) mark(pos, next);
    pos = next;
  }
  return out;
}

class CatchUpWorker : public Napi::AsyncWorker {
 public:
  CatchUpWorker(Napi::Env env, std::string source, std::string clone, std::vector<Extent> cloneMap, bool haveMap, bool remap)
      : Napi::AsyncWorker(env, "shadowdisk.reflink-catch-up"),
        deferred_(Napi::Promise::Deferred::New(env)),
        source_(std::move(source)),
        clone_(std::move(clone)),
        cloneMap_(std::move(cloneMap)),
        haveMap_(haveMap),
        remap_(remap) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    int sourceFd = open(source_.c_str(), O_RDONLY | O_CLOEXEC);
    if (sourceFd < 0) return Fail(errno, "open", source_);
    int cloneFd = open(clone_.c_str(), O_RDWR | O_CLOEXEC);
    if (cloneFd < 0) {
      close(sourceFd);
      return Fail(errno, "open", clone_);
    }
    Run(sourceFd, cloneFd);
    close(cloneFd);
    close(sourceFd);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (error_ != 0) return deferred_.Reject(ErrnoError(env, error_, syscall_, path_, "", dest_).Value());
    Napi::Object result = Napi::Object::New(env);
    result.Set("ranges", Napi::Number::New(env, static_cast<double>(ranges_)));
    result.Set("bytes", Napi::Number::New(env, bytes_));
    if (remap_) {
      Napi::Float64Array map = Napi::Float64Array::New(env, newMap_.size() * 4);
      for (size_t k = 0; k < newMap_.size(); k++) {
        map[k * 4] = newMap_[k].logical;
        map[k * 4 + 1] = newMap_[k].physical;
        map[k * 4 + 2] = newMap_[k].length;
        map[k * 4 + 3] = newMap_[k].flags;
      }
      result.Set("cloneMap", map);
    }
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  void Fail(int err, const char* syscall, const std::string& path, const std::string& dest = "") {
    error_ = err;
    syscall_ = syscall;
    path_ = path;
    dest_ = dest;
  }

  void Run(int sourceFd, int cloneFd) {
    struct stat st;
    if (fstat(sourceFd, &st) != 0) return Fail(errno, "fstat", source_);
    std::vector<Extent> sourceMap;
    if (int err = ReadMap(sourceFd, true, sourceMap)) return Fail(err, "ioctl(FIEMAP)", source_);
    if (!haveMap_) {
      if (int err = ReadMap(cloneFd, false, cloneMap_)) return Fail(err, "ioctl(FIEMAP)", clone_);
    }
    for (const auto& [start, end] : ChangedRanges(sourceMap, cloneMap_, static_cast<double>(st.st_size))) {
      file_clone_range range;
      range.src_fd = sourceFd;
      range.src_offset = static_cast<uint64_t>(start);
      range.src_length = static_cast<uint64_t>(end - start);
      range.dest_offset = static_cast<uint64_t>(start);
      int rc;
      do rc = ioctl(cloneFd, FICLONERANGE, &range);
      while (rc < 0 && errno == EINTR);
      if (rc < 0) return Fail(errno, "ioctl(FICLONERANGE)", source_, clone_);
      ranges_++;
      bytes_ += end - start;
    }
    if (remap_) {
      if (int err = ReadMap(cloneFd, false, newMap_)) return Fail(err, "ioctl(FIEMAP)", clone_);
    }
  }

  Napi::Promise::Deferred deferred_;
  std::string source_, clone_;
  std::vector<Extent> cloneMap_, newMap_;
  bool haveMap_, remap_;
  uint64_t ranges_ = 0;
  double bytes_ = 0;
  int error_ = 0;
  std::string syscall_, path_, dest_;
};

// reflinkCatchUp(sourcePath, clonePath, cloneMap: Float64Array | null, remap: boolean)
//   -> Promise<{ranges, bytes, cloneMap?: Float64Array}>
Napi::Value ReflinkCatchUp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = StringArg(info, 0, "sourcePath");
  std::string clone = StringArg(info, 1, "clonePath");
  std::vector<Extent> map;
  bool haveMap = info.Length() > 2 && info[2].IsTypedArray();
  if (haveMap) {
    Napi::Float64Array packed = info[2].As<Napi::Float64Array>();
    if (packed.TypedArrayType() != napi_float64_array || packed.ElementLength() % 4 != 0) throw Napi::TypeError::New(env, "Expected cloneMap as a Float64Array of [logical, physical, length, flags] quadruples");
    for (size_t k = 0; k + 3 < packed.ElementLength(); k += 4) map.push_back({packed[k], packed[k + 1], packed[k + 2], packed[k + 3]});
  } else if (info.Length() > 2 && !info[2].IsNull() && !info[2].IsUndefined()) {
    throw Napi::TypeError::New(env, "Expected cloneMap as a Float64Array or null");
  }
  bool remap = info.Length() > 3 && info[3].ToBoolean().Value();
  auto* worker = new CatchUpWorker(env, source, clone, std::move(map), haveMap, remap);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitReflinkCatchUp(Napi::Env env, Napi::Object exports) {
  exports.Set("reflinkCatchUp", Napi::Function::New(env, ReflinkCatchUp, "reflinkCatchUp"));
}

}  // namespace shadowdisk
