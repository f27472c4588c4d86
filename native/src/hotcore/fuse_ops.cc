// The FUSE side: one directory with `volume` (the origin, read-write) and, while a snapshot exists, `snapshot`
// (read-only). Writes, discards and write-zeroes preserve blocks for the snapshot first, then mark the changed-block map.
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine.h"

namespace hotcore {

namespace {

constexpr fuse_ino_t kVolumeIno = kVolumeInode;
constexpr fuse_ino_t kSnapshotIno = kSnapshotInode;
constexpr double kVolumeCacheSeconds = 3600.0;
const time_t kStartedAt = time(nullptr);

bool SnapshotExists() { return TheEngine().snapshot.state.load() != static_cast<int>(SnapshotState::kNone); }

bool FillAttr(fuse_ino_t ino, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  st->st_ino = ino;
  st->st_atime = st->st_mtime = st->st_ctime = kStartedAt;
  st->st_blksize = kBlockSize;
  if (ino == FUSE_ROOT_ID) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return true;
  }
  if (ino != kVolumeIno && !(ino == kSnapshotIno && SnapshotExists())) return false;
  st->st_mode = ino == kVolumeIno ? (S_IFREG | 0600) : (S_IFREG | 0400);
  st->st_nlink = 1;
  st->st_size = static_cast<off_t>(TheEngine().origin.sizeBytes);
  st->st_blocks = st->st_size / 512;
  return true;
}

double TimeoutOf(fuse_ino_t ino) { return ino == kVolumeIno ? kVolumeCacheSeconds : 0.0; }

void OpInit(void*, fuse_conn_info* conn) {
  conn->max_write = kMaxIoBytes;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  if (conn->capable & FUSE_CAP_ASYNC_DIO) conn->want |= FUSE_CAP_ASYNC_DIO;
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (parent != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOENT);
  fuse_ino_t ino = std::strcmp(name, "volume") == 0 ? kVolumeIno : std::strcmp(name, "snapshot") == 0 ? kSnapshotIno : 0;
  fuse_entry_param entry;
  std::memset(&entry, 0, sizeof(entry));
  if (ino == 0 || !FillAttr(ino, &entry.attr)) return (void)fuse_reply_err(req, ENOENT);
  entry.ino = ino;
  entry.attr_timeout = entry.entry_timeout = TimeoutOf(ino);
  fuse_reply_entry(req, &entry);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  struct stat st;
  if (!FillAttr(ino, &st)) return (void)fuse_reply_err(req, ENOENT);
  fuse_reply_attr(req, &st, TimeoutOf(ino));
}

// Truncation and mode changes are refused; time updates are accepted and ignored (the sizes are fixed).
void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat*, int toSet, fuse_file_info*) {
  struct stat st;
  if (!FillAttr(ino, &st)) return (void)fuse_reply_err(req, ENOENT);
  if (toSet & (FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) return (void)fuse_reply_err(req, EPERM);
  fuse_reply_attr(req, &st, TimeoutOf(ino));
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info*) {
  if (ino != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOTDIR);
  std::vector<std::pair<const char*, fuse_ino_t>> names = {{".", FUSE_ROOT_ID}, {"..", FUSE_ROOT_ID}, {"volume", kVolumeIno}};
  if (SnapshotExists()) names.push_back({"snapshot", kSnapshotIno});
  std::vector<char> buffer(size);
  size_t used = 0;
  for (size_t k = static_cast<size_t>(offset); k < names.size(); k++) {
    struct stat st;
    std::memset(&st, 0, sizeof(st));
    st.st_ino = names[k].second;
    st.st_mode = names[k].second == FUSE_ROOT_ID ? S_IFDIR : S_IFREG;
    size_t need = fuse_add_direntry(req, buffer.data() + used, size - used, names[k].first, &st, static_cast<off_t>(k + 1));
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buffer.data(), used);
}

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (ino == FUSE_ROOT_ID) return (void)fuse_reply_err(req, EISDIR);
  if (ino == kSnapshotIno) {
    if (!SnapshotExists()) return (void)fuse_reply_err(req, ENOENT);
    if ((fi->flags & O_ACCMODE) != O_RDONLY) return (void)fuse_reply_err(req, EROFS);
    fi->direct_io = 1;  // each snapshot has its own bytes: never serve a former one's from the page cache
  } else if (ino != kVolumeIno) {
    return (void)fuse_reply_err(req, ENOENT);
  }
  fuse_reply_open(req, fi);
}

// Clips [offset, offset+size) to the origin; false (and the reply sent) when nothing is left.
bool Clip(fuse_req_t req, off_t offset, size_t& size, bool write) {
  uint64_t total = TheEngine().origin.sizeBytes;
  if (offset < 0) return fuse_reply_err(req, EINVAL), false;
  if (static_cast<uint64_t>(offset) >= total || size == 0) {
    if (write && size > 0) fuse_reply_err(req, ENOSPC);
    else fuse_reply_buf(req, nullptr, 0);
    return false;
  }
  size = static_cast<size_t>(std::min<uint64_t>(size, total - static_cast<uint64_t>(offset)));
  return true;
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info*) {
  if (!Clip(req, offset, size, false)) return;
  if (ino == kVolumeIno && AsyncUsable(TheEngine().origin, static_cast<uint64_t>(offset), size)) {
    return AsyncOriginRead(req, size, static_cast<uint64_t>(offset));
  }
  char* buffer = AlignedScratch(size, 0);
  if (buffer == nullptr) return (void)fuse_reply_err(req, ENOMEM);
  Engine& engine = TheEngine();
  int rc = ino == kVolumeIno ? OriginRead(engine.origin, buffer, size, static_cast<uint64_t>(offset))
         : ino == kSnapshotIno ? SnapshotRead(engine, buffer, size, static_cast<uint64_t>(offset))
                               : -ENOENT;
  if (rc != 0) return (void)fuse_reply_err(req, -rc);
  fuse_reply_buf(req, buffer, size);
}

// The synchronous path: preserve and mark, then let `land` change the origin, all under one shared hold of the cut.
template <typename Land>
int Intercept(uint64_t offset, uint64_t length, Land land) {
  Engine& engine = TheEngine();
  std::shared_lock<SwitchLock> cut(engine.switchLock);
  PreserveAndMark(engine, offset, length);
  return land();
}

void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* bytes, size_t size, off_t offset, fuse_file_info*) {
  if (ino != kVolumeIno) return (void)fuse_reply_err(req, ino == kSnapshotIno ? EROFS : ENOENT);
  if (!Clip(req, offset, size, true)) return;
  Engine& engine = TheEngine();
  uint64_t at = static_cast<uint64_t>(offset);
  if (AsyncUsable(engine.origin, at, size)) {
    // Copied out of libfuse's buffer (reused for the next request; its payload is unaligned anyway) into a pooled one
    // that stays with the write until it lands; taking it waits while the pool's budget is spent.
    size_t cls = 0;
    char* buffer = TakeIoBuffer(size, cls);
    if (buffer == nullptr) return (void)fuse_reply_err(req, ENOMEM);
    std::memcpy(buffer, bytes, size);
    engine.switchLock.lock_shared();
    PreserveAndMark(engine, at, size);
    return AsyncOriginWrite(req, buffer, cls, size, at);
  }
  // libfuse's payload sits unaligned after the request header: copy it into an aligned buffer for O_DIRECT.
  char* bounce = AlignedScratch(size, 1);
  if (bounce == nullptr) return (void)fuse_reply_err(req, ENOMEM);
  std::memcpy(bounce, bytes, size);
  int rc = Intercept(at, size, [&] { return OriginWrite(engine.origin, bounce, size, at); });
  if (rc != 0) return (void)fuse_reply_err(req, -rc);
  fuse_reply_write(req, size);
}

void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info*) {
  if (ino != kVolumeIno) return (void)fuse_reply_err(req, ino == kSnapshotIno ? EROFS : ENOENT);
  fuse_reply_err(req, VolumeFallocate(mode, offset, length, false));
}

void OpFsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  if (ino != kVolumeIno) return (void)fuse_reply_err(req, 0);
  const Origin& origin = TheEngine().origin;
  int rc = fdatasync(origin.directFd >= 0 ? origin.directFd : origin.bufferedFd);
  if (rc == 0 && origin.directFd >= 0) rc = fdatasync(origin.bufferedFd);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpFlush(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void OpStatfs(fuse_req_t req, fuse_ino_t) {
  struct statvfs st;
  std::memset(&st, 0, sizeof(st));
  st.f_bsize = st.f_frsize = kBlockSize;
  st.f_blocks = TheEngine().blocks;
  st.f_files = 3;
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops;
  std::memset(&ops, 0, sizeof(ops));
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.getattr = OpGetattr;
  ops.setattr = OpSetattr;
  ops.readdir = OpReaddir;
  ops.open = OpOpen;
  ops.read = OpRead;
  ops.write = OpWrite;
  ops.fallocate = OpFallocate;
  ops.fsync = OpFsync;
  ops.flush = OpFlush;
  ops.statfs = OpStatfs;
  return ops;
}

const fuse_lowlevel_ops kOps = MakeOps();

}  // namespace

const fuse_lowlevel_ops& FuseOps() { return kOps; }

void PreserveAndMark(Engine& engine, uint64_t offset, uint64_t length) {
  uint64_t first = offset / kBlockSize;
  uint64_t last = (offset + length - 1) / kBlockSize;
  if (engine.snapshot.state.load(std::memory_order_acquire) == static_cast<int>(SnapshotState::kActive)) PreserveBlocks(engine, first, last);
  engine.changed->SetRange(first, last);
}

int VolumeFallocate(int mode, int64_t offset, int64_t length, bool cutHeld) {
  int content = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE);
  uint64_t total = TheEngine().origin.sizeBytes;
  if (offset < 0 || length <= 0) return EINVAL;
  if (content == 0) return static_cast<uint64_t>(offset + length) <= total ? 0 : EOPNOTSUPP;
  if (static_cast<uint64_t>(offset) >= total) return 0;
  uint64_t at = static_cast<uint64_t>(offset);
  uint64_t clipped = std::min<uint64_t>(static_cast<uint64_t>(length), total - at);
  Engine& engine = TheEngine();
  auto land = [&] { return OriginDiscard(engine.origin, content | FALLOC_FL_KEEP_SIZE, at, clipped); };
  if (cutHeld) {
    PreserveAndMark(engine, at, clipped);
    return -land();
  }
  return -Intercept(at, clipped, land);
}

}  // namespace hotcore
