// The origin's I/O: O_DIRECT through aligned buffers when the request and the origin allow it (the notes measured the
// page-cached alternative as host cache, not durable throughput), the buffered descriptor otherwise.
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "engine.h"

namespace hotcore {

AtomicBitmap::AtomicBitmap(uint64_t bits)
    : bits_(bits), wordCount_((bits + 63) / 64), words_(new std::atomic<uint64_t>[(bits + 63) / 64 + 1]) {
  Clear();
}

void AtomicBitmap::SetRange(uint64_t first, uint64_t last) {
  for (uint64_t bit = first; bit <= last; bit++) Set(bit);
}

void AtomicBitmap::Clear() {
  for (size_t i = 0; i <= wordCount_; i++) words_[i].store(0, std::memory_order_relaxed);
}

uint64_t AtomicBitmap::Count() const {
  uint64_t n = 0;
  for (size_t i = 0; i < wordCount_; i++) n += __builtin_popcountll(words_[i].load(std::memory_order_relaxed));
  return n;
}

std::vector<uint64_t> AtomicBitmap::TakeWords() {
  std::vector<uint64_t> out(wordCount_);
  for (size_t i = 0; i < wordCount_; i++) out[i] = words_[i].exchange(0, std::memory_order_acq_rel);
  return out;
}

namespace {

struct Scratch {
  char* bytes = nullptr;
  size_t size = 0;
  ~Scratch() { free(bytes); }
};

thread_local Scratch tScratch[4];  // 0 read replies, 1 write bounce, 2 zeros, 3 preserved blocks

bool Aligned(const Origin& origin, uint64_t offset, size_t length) {
  return origin.directFd >= 0 && offset % origin.directAlign == 0 && length % origin.directAlign == 0;
}

}  // namespace

char* AlignedScratch(size_t length, int which) {
  Scratch& s = tScratch[which];
  if (s.size < length) {
    free(s.bytes);
    size_t size = (length + kBlockSize - 1) / kBlockSize * kBlockSize;
    s.bytes = static_cast<char*>(aligned_alloc(kBlockSize, size));
    s.size = s.bytes ? size : 0;
  }
  return s.bytes;
}

int PreadFull(int fd, char* buffer, size_t length, uint64_t offset) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd, buffer + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) {  // past the end: the rest reads as zeros
      std::memset(buffer + done, 0, length - done);
      break;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

int PwriteFull(int fd, const char* buffer, size_t length, uint64_t offset) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = pwrite(fd, buffer + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return -EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

int OpenOrigin(Origin& origin, std::string& error) {
  origin.bufferedFd = open(origin.path.c_str(), O_RDWR | O_CLOEXEC);
  if (origin.bufferedFd < 0) {
    error = "open '" + origin.path + "': " + strerror(errno);
    return -errno;
  }
  struct stat st;
  if (fstat(origin.bufferedFd, &st) != 0) {
    error = "fstat '" + origin.path + "': " + strerror(errno);
    return -errno;
  }
  if (S_ISBLK(st.st_mode)) {
    origin.blockDevice = true;
    // Claim the device exclusively, so nothing mounts the original behind the engine's back while it is attached
    // (the kernel refuses a mount of a claimed device); the O_DIRECT descriptor below shares this claim's purpose.
    int exclusive = open(origin.path.c_str(), O_RDWR | O_EXCL | O_CLOEXEC);
    if (exclusive < 0) {
      error = "'" + origin.path + "' is in use (mounted or held by another program): " + strerror(errno);
      return -errno;
    }
    close(origin.bufferedFd);
    origin.bufferedFd = exclusive;
    if (ioctl(origin.bufferedFd, BLKGETSIZE64, &origin.sizeBytes) != 0) {
      error = "BLKGETSIZE64 '" + origin.path + "': " + strerror(errno);
      return -errno;
    }
    int logical = 512;
    if (ioctl(origin.bufferedFd, BLKSSZGET, &logical) == 0 && logical > 0) origin.directAlign = static_cast<uint64_t>(logical);
  } else if (S_ISREG(st.st_mode)) {
    origin.sizeBytes = static_cast<uint64_t>(st.st_size);
    origin.directAlign = st.st_blksize >= 512 && st.st_blksize <= 4096 ? 512 : 4096;
  } else {
    error = "'" + origin.path + "' is neither a block device nor a regular file";
    return -EINVAL;
  }
  origin.directFd = open(origin.path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  if (origin.directFd >= 0) {
    // Some filesystems accept the flag at open and refuse the I/O: probe one aligned read.
    char* probe = AlignedScratch(kBlockSize, 0);
    if (origin.sizeBytes >= kBlockSize && PreadFull(origin.directFd, probe, kBlockSize, 0) != 0) {
      close(origin.directFd);
      origin.directFd = -1;
    }
  }
  if (origin.directFd < 0) Log("origin '%s' refuses O_DIRECT; using buffered I/O", origin.path.c_str());
  return 0;
}

int OriginRead(const Origin& origin, char* buffer, size_t length, uint64_t offset) {
  if (Aligned(origin, offset, length)) {
    int rc = PreadFull(origin.directFd, buffer, length, offset);
    if (rc != -EINVAL) return rc;
  }
  return PreadFull(origin.bufferedFd, buffer, length, offset);
}

int OriginWrite(const Origin& origin, const char* buffer, size_t length, uint64_t offset) {
  if (Aligned(origin, offset, length) && reinterpret_cast<uintptr_t>(buffer) % kBlockSize == 0) {
    int rc = PwriteFull(origin.directFd, buffer, length, offset);
    if (rc != -EINVAL) return rc;
  }
  return PwriteFull(origin.bufferedFd, buffer, length, offset);
}

// Discard and write-zeroes from the loop device: the range must read as zeros afterwards, so fall back to writing them.
int OriginDiscard(const Origin& origin, int mode, uint64_t offset, uint64_t length) {
  int kernelMode = origin.blockDevice ? (mode | FALLOC_FL_KEEP_SIZE) : mode;
  if (fallocate(origin.bufferedFd, kernelMode, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0) return 0;
  if (errno != EOPNOTSUPP && errno != EINVAL) return -errno;
  char* zeros = AlignedScratch(kMaxIoBytes, 2);
  std::memset(zeros, 0, kMaxIoBytes);
  for (uint64_t done = 0; done < length;) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(kMaxIoBytes, length - done));
    int rc = OriginWrite(origin, zeros, chunk, offset + done);
    if (rc != 0) return rc;
    done += chunk;
  }
  return 0;
}

}  // namespace hotcore
