// A read-only FUSE filesystem of flat, fixed-size files whose bytes come from JavaScript: libfuse3's low-level API runs
// its multi-threaded loop on native threads (lookup, getattr, readdir, open and statfs never leave C++); each READ is
// handed to a JS callback through a thread-safe function and answered later, from the main thread, by fuseFilesReply.
// Used to expose the volumes inside an image as files that a read-only loop device can sit on.
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "errors.h"
#include "modules.h"

namespace shadowdisk {

namespace {

constexpr fuse_ino_t kFirstFileIno = 2;
constexpr double kCacheSeconds = 3600.0;  // the files never change while served

struct ServedFile {
  std::string name;
  uint64_t size;
};

struct ReadRequest {
  uint64_t id;
  uint32_t file;
  uint64_t offset;
  size_t length;
};

class FileServer {
 public:
  FileServer(std::string mountpoint, std::vector<ServedFile> files)
      : mountpoint_(std::move(mountpoint)), files_(std::move(files)), mountedAt_(time(nullptr)) {}

  std::string mountpoint_;
  std::vector<ServedFile> files_;
  time_t mountedAt_;
  fuse_session* session_ = nullptr;
  std::thread loop_;
  Napi::ThreadSafeFunction onRead_;
  std::mutex mutex_;
  std::unordered_map<uint64_t, fuse_req_t> pending_;
  uint64_t nextId_ = 1;
  bool closing_ = false;
  int loopResult_ = 0;

  const ServedFile* FileOf(fuse_ino_t ino) const {
    if (ino < kFirstFileIno || ino - kFirstFileIno >= files_.size()) return nullptr;
    return &files_[ino - kFirstFileIno];
  }

  void FillAttr(fuse_ino_t ino, struct stat* st) const {
    std::memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_uid = 0;
    st->st_gid = 0;
    st->st_atime = st->st_mtime = st->st_ctime = mountedAt_;
    st->st_blksize = 4096;
    if (ino == FUSE_ROOT_ID) {
      st->st_mode = S_IFDIR | 0555;
      st->st_nlink = 2;
    } else {
      const ServedFile* file = FileOf(ino);
      st->st_mode = S_IFREG | 0444;
      st->st_nlink = 1;
      st->st_size = static_cast<off_t>(file->size);
      st->st_blocks = static_cast<blkcnt_t>((file->size + 511) / 512);
    }
  }

  // Takes the request out of the pending set; null when it was answered already (or the server closed).
  fuse_req_t Take(uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return nullptr;
    fuse_req_t req = it->second;
    pending_.erase(it);
    return req;
  }
};

std::mutex gServersMutex;
std::map<uint32_t, std::shared_ptr<FileServer>> gServers;
uint32_t gNextHandle = 1;

std::shared_ptr<FileServer> ServerOf(const Napi::CallbackInfo& info) {
  uint32_t handle = U32Arg(info, 0, "handle");
  std::lock_guard<std::mutex> lock(gServersMutex);
  auto it = gServers.find(handle);
  if (it == gServers.end()) throw Napi::Error::New(info.Env(), "FUSE file server " + std::to_string(handle) + " is not running");
  return it->second;
}

FileServer* Self(fuse_req_t req) { return static_cast<FileServer*>(fuse_req_userdata(req)); }

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  FileServer* self = Self(req);
  if (parent != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOENT);
  for (size_t i = 0; i < self->files_.size(); i++) {
    if (self->files_[i].name != name) continue;
    fuse_entry_param entry;
    std::memset(&entry, 0, sizeof(entry));
    entry.ino = kFirstFileIno + i;
    entry.attr_timeout = kCacheSeconds;
    entry.entry_timeout = kCacheSeconds;
    self->FillAttr(entry.ino, &entry.attr);
    return (void)fuse_reply_entry(req, &entry);
  }
  fuse_reply_err(req, ENOENT);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  FileServer* self = Self(req);
  if (ino != FUSE_ROOT_ID && self->FileOf(ino) == nullptr) return (void)fuse_reply_err(req, ENOENT);
  struct stat st;
  self->FillAttr(ino, &st);
  fuse_reply_attr(req, &st, kCacheSeconds);
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info*) {
  FileServer* self = Self(req);
  if (ino != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOTDIR);
  std::vector<char> buffer(size);
  size_t used = 0;
  // Entry k is ".", "..", then the files; each entry's offset is the index of the next one.
  size_t total = self->files_.size() + 2;
  for (size_t k = static_cast<size_t>(offset); k < total; k++) {
    struct stat st;
    std::memset(&st, 0, sizeof(st));
    const char* name;
    if (k < 2) {
      name = k == 0 ? "." : "..";
      st.st_ino = FUSE_ROOT_ID;
      st.st_mode = S_IFDIR;
    } else {
      name = self->files_[k - 2].name.c_str();
      st.st_ino = kFirstFileIno + (k - 2);
      st.st_mode = S_IFREG;
    }
    size_t need = fuse_add_direntry(req, buffer.data() + used, size - used, name, &st, static_cast<off_t>(k + 1));
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buffer.data(), used);
}

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  FileServer* self = Self(req);
  if (self->FileOf(ino) == nullptr) return (void)fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return (void)fuse_reply_err(req, EROFS);
  fi->keep_cache = 1;
  fuse_reply_open(req, fi);
}

void CallRead(Napi::Env env, Napi::Function callback, ReadRequest* request) {
  std::unique_ptr<ReadRequest> owned(request);
  if (env == nullptr || callback.IsEmpty()) return;
  callback.Call({Napi::Number::New(env, static_cast<double>(request->id)), Napi::Number::New(env, request->file),
                 Napi::Number::New(env, static_cast<double>(request->offset)),
                 Napi::Number::New(env, static_cast<double>(request->length))});
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info*) {
  FileServer* self = Self(req);
  const ServedFile* file = self->FileOf(ino);
  if (file == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (offset < 0) return (void)fuse_reply_err(req, EINVAL);
  uint64_t start = static_cast<uint64_t>(offset);
  if (start >= file->size || size == 0) return (void)fuse_reply_buf(req, nullptr, 0);
  size_t length = static_cast<size_t>(std::min<uint64_t>(size, file->size - start));
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    if (self->closing_) return (void)fuse_reply_err(req, EIO);
    id = self->nextId_++;
    self->pending_.emplace(id, req);
  }
  auto* request = new ReadRequest{id, static_cast<uint32_t>(ino - kFirstFileIno), start, length};
  if (self->onRead_.NonBlockingCall(request, CallRead) != napi_ok) {
    delete request;
    if (fuse_req_t taken = self->Take(id)) fuse_reply_err(taken, EIO);
  }
}

void OpStatfs(fuse_req_t req, fuse_ino_t) {
  FileServer* self = Self(req);
  struct statvfs st;
  std::memset(&st, 0, sizeof(st));
  st.f_bsize = 4096;
  st.f_frsize = 4096;
  uint64_t bytes = 0;
  for (const ServedFile& f : self->files_) bytes += f.size;
  st.f_blocks = (bytes + 4095) / 4096;
  st.f_files = self->files_.size() + 1;
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops;
  std::memset(&ops, 0, sizeof(ops));
  ops.lookup = OpLookup;
  ops.getattr = OpGetattr;
  ops.readdir = OpReaddir;
  ops.open = OpOpen;
  ops.read = OpRead;
  ops.statfs = OpStatfs;
  return ops;
}

const fuse_lowlevel_ops kOps = MakeOps();

// fuseFilesMount(mountpoint, [{name, size}], onRead(id, file, offset, length), maxThreads) -> handle
Napi::Value FuseFilesMount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string mountpoint = StringArg(info, 0, "mountpoint");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "Expected files to be an array of {name, size}");
  if (!info[2].IsFunction()) throw Napi::TypeError::New(env, "Expected onRead to be a function");
  uint32_t maxThreads = U32Arg(info, 3, "maxThreads");
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<ServedFile> files;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object entry = list.Get(i).As<Napi::Object>();
    std::string name = entry.Get("name").As<Napi::String>().Utf8Value();
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name.size() > 255) {
      throw Napi::RangeError::New(env, "Expected a plain file name, got '" + name + "'");
    }
    Napi::Value size = entry.Get("size");
    uint64_t bytes;
    if (size.IsBigInt()) {
      bool lossless = false;
      bytes = size.As<Napi::BigInt>().Uint64Value(&lossless);
    } else {
      double d = size.As<Napi::Number>().DoubleValue();
      if (!(d >= 0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<uint64_t>(d))) {
        throw Napi::RangeError::New(env, "Expected the size of '" + name + "' to be a whole number of bytes");
      }
      bytes = static_cast<uint64_t>(d);
    }
    files.push_back({name, bytes});
  }

  auto server = std::make_shared<FileServer>(mountpoint, std::move(files));
  std::string fsname = "fsname=shadowdisk";
  std::vector<std::string> argvStrings = {"shadowdisk", "-o", "ro,default_permissions,subtype=shadowdisk," + fsname};
  std::vector<char*> argv;
  for (std::string& s : argvStrings) argv.push_back(s.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  server->session_ = fuse_session_new(&args, &kOps, sizeof(kOps), server.get());
  if (server->session_ == nullptr) throw Napi::Error::New(env, "fuse_session_new failed for '" + mountpoint + "'");
  if (fuse_session_mount(server->session_, mountpoint.c_str()) != 0) {
    int err = errno != 0 ? errno : EIO;
    fuse_session_destroy(server->session_);
    ThrowErrno(env, err, "fuse_session_mount", mountpoint, "cannot mount the FUSE filesystem (is /dev/fuse there?)");
  }
  server->onRead_ = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "shadowdisk.fuse-read", 0, 1);
  FileServer* raw = server.get();
  server->loop_ = std::thread([raw, maxThreads]() {
    fuse_loop_config* config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(config, 0);
    fuse_loop_cfg_set_max_threads(config, maxThreads);
    raw->loopResult_ = fuse_session_loop_mt(raw->session_, config);
    fuse_loop_cfg_destroy(config);
  });
  uint32_t handle;
  {
    std::lock_guard<std::mutex> lock(gServersMutex);
    handle = gNextHandle++;
    gServers.emplace(handle, server);
  }
  return Napi::Number::New(env, handle);
}

// fuseFilesReply(handle, id, bytes): answers a READ; false when it was answered already or the server is closing.
Napi::Value FuseFilesReply(const Napi::CallbackInfo& info) {
  std::shared_ptr<FileServer> server = ServerOf(info);
  uint64_t id = U64Arg(info, 1, "id");
  Napi::Uint8Array bytes = BytesArg(info, 2, "bytes");
  fuse_req_t req = server->Take(id);
  if (req == nullptr) return Napi::Boolean::New(info.Env(), false);
  fuse_reply_buf(req, reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  return Napi::Boolean::New(info.Env(), true);
}

// fuseFilesReplyError(handle, id, errno): fails a READ (EIO for a damaged chunk).
Napi::Value FuseFilesReplyError(const Napi::CallbackInfo& info) {
  std::shared_ptr<FileServer> server = ServerOf(info);
  uint64_t id = U64Arg(info, 1, "id");
  uint32_t err = U32Arg(info, 2, "errno");
  fuse_req_t req = server->Take(id);
  if (req == nullptr) return Napi::Boolean::New(info.Env(), false);
  fuse_reply_err(req, err == 0 ? EIO : static_cast<int>(err));
  return Napi::Boolean::New(info.Env(), true);
}

// Unmounts (the kernel then ends the connection, so the loop threads return), joins the loop and frees the session,
// off the main thread: the unmount may wait for READs that only the main thread can answer.
class UnmountWorker : public Napi::AsyncWorker {
 public:
  UnmountWorker(Napi::Env env, uint32_t handle, std::shared_ptr<FileServer> server, bool lazy)
      : Napi::AsyncWorker(env, "shadowdisk.fuse-unmount"),
        deferred_(Napi::Promise::Deferred::New(env)),
        handle_(handle),
        server_(std::move(server)),
        lazy_(lazy) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    int rc;
    do rc = umount2(server_->mountpoint_.c_str(), lazy_ ? MNT_DETACH : 0);
    while (rc < 0 && errno == EINTR);
    // EINVAL: no longer mounted there (lifted from outside); the connection has ended or will with its last user.
    if (rc < 0 && errno != EINVAL) {
      error_ = errno;
      return;
    }
    fuse_session_exit(server_->session_);
    server_->loop_.join();
    std::vector<fuse_req_t> left;
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      server_->closing_ = true;
      for (auto& entry : server_->pending_) left.push_back(entry.second);
      server_->pending_.clear();
    }
    for (fuse_req_t req : left) fuse_reply_err(req, EIO);
    unanswered_ = left.size();
    fuse_session_unmount(server_->session_);
    fuse_session_destroy(server_->session_);
    server_->session_ = nullptr;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (error_ != 0) {
      deferred_.Reject(ErrnoError(env, error_, "umount2", server_->mountpoint_,
                                  error_ == EBUSY ? "the FUSE filesystem is still in use (a loop device or an open file)" : "")
                           .Value());
      return;
    }
    server_->onRead_.Release();
    {
      std::lock_guard<std::mutex> lock(gServersMutex);
      gServers.erase(handle_);
    }
    deferred_.Resolve(Napi::Number::New(env, static_cast<double>(unanswered_)));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  uint32_t handle_;
  std::shared_ptr<FileServer> server_;
  bool lazy_;
  int error_ = 0;
  size_t unanswered_ = 0;
};

// fuseFilesUnmount(handle, lazy) -> Promise<number of READs left unanswered>
Napi::Value FuseFilesUnmount(const Napi::CallbackInfo& info) {
  std::shared_ptr<FileServer> server = ServerOf(info);
  uint32_t handle = U32Arg(info, 0, "handle");
  bool lazy = info.Length() > 1 && info[1].ToBoolean().Value();
  auto* worker = new UnmountWorker(info.Env(), handle, server, lazy);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitFuseFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("fuseFilesMount", Napi::Function::New(env, FuseFilesMount, "fuseFilesMount"));
  exports.Set("fuseFilesReply", Napi::Function::New(env, FuseFilesReply, "fuseFilesReply"));
  exports.Set("fuseFilesReplyError", Napi::Function::New(env, FuseFilesReplyError, "fuseFilesReplyError"));
  exports.Set("fuseFilesUnmount", Napi::Function::New(env, FuseFilesUnmount, "fuseFilesUnmount"));
}

}  // namespace shadowdisk
