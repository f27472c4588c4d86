// The FUSE side of the test disk: one directory with `disk` (the served disk) and `control` (read: status as JSON;
// write: one command per write, see DiskControl). Single-threaded, so write counts and cuts are deterministic.
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <time.h>

#include <cstring>
#include <string>
#include <vector>

#include "testdisk.h"

namespace testdisk {

namespace {

constexpr fuse_ino_t kDiskIno = 2;
constexpr fuse_ino_t kControlIno = 3;
const time_t kStartedAt = time(nullptr);

bool FillAttr(fuse_ino_t ino, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  st->st_ino = ino;
  st->st_atime = st->st_mtime = st->st_ctime = kStartedAt;
  st->st_blksize = kBlockSize;
  if (ino == FUSE_ROOT_ID) return st->st_mode = S_IFDIR | 0755, st->st_nlink = 2, true;
  if (ino != kDiskIno && ino != kControlIno) return false;
  st->st_mode = S_IFREG | 0600;
  st->st_nlink = 1;
  st->st_size = ino == kDiskIno ? static_cast<off_t>(TheDisk().sizeBytes) : 0;
  st->st_blocks = st->st_size / 512;
  return true;
}

void OpInit(void*, fuse_conn_info* conn) {
  conn->max_write = static_cast<unsigned>(TheDisk().maxWriteBytes);
  if (conn->capable & FUSE_CAP_ASYNC_DIO) conn->want |= FUSE_CAP_ASYNC_DIO;
  // Write-through: every write reaches the overlay as a request, none waits in the kernel's page cache.
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fuse_ino_t ino = parent != FUSE_ROOT_ID ? 0 : std::strcmp(name, "disk") == 0 ? kDiskIno : std::strcmp(name, "control") == 0 ? kControlIno : 0;
  fuse_entry_param entry;
  std::memset(&entry, 0, sizeof(entry));
  if (ino == 0 || !FillAttr(ino, &entry.attr)) return (void)fuse_reply_err(req, ENOENT);
  entry.ino = ino;
  entry.attr_timeout = entry.entry_timeout = 3600.0;
  fuse_reply_entry(req, &entry);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  struct stat st;
  if (!FillAttr(ino, &st)) return (void)fuse_reply_err(req, ENOENT);
  fuse_reply_attr(req, &st, 3600.0);
}

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat*, int toSet, fuse_file_info*) {
  struct stat st;
  if (!FillAttr(ino, &st)) return (void)fuse_reply_err(req, ENOENT);
  // The control file accepts O_TRUNC (shell redirections); the disk's size is fixed.
  if ((toSet & FUSE_SET_ATTR_SIZE) && ino == kDiskIno) return (void)fuse_reply_err(req, EPERM);
  fuse_reply_attr(req, &st, 3600.0);
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info*) {
  if (ino != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOTDIR);
  const std::pair<const char*, fuse_ino_t> names[] = {{".", FUSE_ROOT_ID}, {"..", FUSE_ROOT_ID}, {"disk", kDiskIno}, {"control", kControlIno}};
  std::vector<char> buffer(size);
  size_t used = 0;
  for (size_t k = static_cast<size_t>(offset); k < 4; k++) {
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
  if (ino != kDiskIno && ino != kControlIno) return (void)fuse_reply_err(req, ENOENT);
  if (ino == kControlIno) fi->direct_io = 1;  // a fresh status at every read
  fuse_reply_open(req, fi);
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info*) {
  Disk& disk = TheDisk();
  if (ino == kControlIno) {
    std::string status = DiskStatusJson(disk);
    if (static_cast<size_t>(offset) >= status.size()) return (void)fuse_reply_buf(req, nullptr, 0);
    return (void)fuse_reply_buf(req, status.data() + offset, std::min(size, status.size() - static_cast<size_t>(offset)));
  }
  if (offset < 0 || static_cast<uint64_t>(offset) >= disk.sizeBytes || size == 0) return (void)fuse_reply_buf(req, nullptr, 0);
  size = static_cast<size_t>(std::min<uint64_t>(size, disk.sizeBytes - static_cast<uint64_t>(offset)));
  std::vector<char> buffer(size);
  int rc = DiskRead(disk, buffer.data(), size, static_cast<uint64_t>(offset));
  if (rc != 0) return (void)fuse_reply_err(req, -rc);
  fuse_reply_buf(req, buffer.data(), size);
}

void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* bytes, size_t size, off_t offset, fuse_file_info*) {
  Disk& disk = TheDisk();
  if (ino == kControlIno) {
    std::string command(bytes, size);
    while (!command.empty() && (command.back() == '\n' || command.back() == ' ')) command.pop_back();
    std::string error;
    int rc = DiskControl(disk, command, error);
    if (rc != 0) Log("control: %s", error.c_str());
    return rc != 0 ? (void)fuse_reply_err(req, -rc) : (void)fuse_reply_write(req, size);
  }
  if (offset < 0 || static_cast<uint64_t>(offset) >= disk.sizeBytes) return (void)fuse_reply_err(req, ENOSPC);
  size = static_cast<size_t>(std::min<uint64_t>(size, disk.sizeBytes - static_cast<uint64_t>(offset)));
  int rc = DiskWrite(disk, bytes, size, static_cast<uint64_t>(offset));
  if (rc != 0) return (void)fuse_reply_err(req, -rc);
  fuse_reply_write(req, size);
}

// Discards and write-zeroes from the loop device: the range reads as zeroes, like any other unflushed write.
void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info*) {
  Disk& disk = TheDisk();
  if (ino != kDiskIno) return (void)fuse_reply_err(req, EOPNOTSUPP);
  if (offset < 0 || length <= 0) return (void)fuse_reply_err(req, EINVAL);
  if ((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) == 0) return (void)fuse_reply_err(req, 0);
  if (static_cast<uint64_t>(offset) >= disk.sizeBytes) return (void)fuse_reply_err(req, 0);
  uint64_t clipped = std::min<uint64_t>(static_cast<uint64_t>(length), disk.sizeBytes - static_cast<uint64_t>(offset));
  fuse_reply_err(req, -DiskZero(disk, static_cast<uint64_t>(offset), clipped));
}

void OpFsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  fuse_reply_err(req, ino == kDiskIno ? -DiskFlush(TheDisk()) : 0);
}

void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  fuse_reply_err(req, ino == kDiskIno ? -DiskFlush(TheDisk()) : 0);
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
  return ops;
}

const fuse_lowlevel_ops kOps = MakeOps();

}  // namespace

const fuse_lowlevel_ops& FuseOps() { return kOps; }

}  // namespace testdisk
