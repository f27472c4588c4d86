// The test disk's semantics: a volatile overlay of 4 KiB blocks over the backing file, persisted at flush, dropped
// (or kept at random) at a power cut; reads fail on purpose inside chosen sector ranges.
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "testdisk.h"

namespace testdisk {

void Log(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "testdisk: ");
  vfprintf(stderr, format, args);
  fprintf(stderr, "\n");
  va_end(args);
}

namespace {

int ReadBacking(Disk& disk, char* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(disk.backingFd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) {  // past the end of a short backing file: zeroes, as a sparse disk reads
      std::memset(out + done, 0, size - done);
      break;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

int WriteBacking(Disk& disk, const char* bytes, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(disk.backingFd, bytes + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    done += static_cast<size_t>(n);
  }
  return 0;
}

bool ReadFails(const Disk& disk, uint64_t offset, size_t size) {
  uint64_t first = offset / 512, last = (offset + size - 1) / 512;
  for (const SectorRange& r : disk.failReads) {
    if (r.count > 0 && first < r.firstLba + r.count && r.firstLba <= last) return true;
  }
  return false;
}

// The overlay block for `block`, filled from the backing file the first time it is written.
int OverlayBlock(Disk& disk, uint64_t block, char** out) {
  auto found = disk.overlay.find(block);
  if (found != disk.overlay.end()) return *out = found->second.get(), 0;
  std::unique_ptr<char[]> bytes(new char[kBlockSize]);
  int rc = ReadBacking(disk, bytes.get(), kBlockSize, block * kBlockSize);
  if (rc != 0) return rc;
  *out = bytes.get();
  disk.overlay.emplace(block, std::move(bytes));
  return 0;
}

// Counts a write request; true when it is the one the cut was armed for (the cut happens, the write is lost).
bool CountWriteAndMaybeCut(Disk& disk) {
  disk.writes++;
  if (disk.cutAtWrite != 0 && disk.writes >= disk.cutAtWrite) {
    DiskCutNow(disk, "armed write count reached");
    return true;
  }
  return false;
}

template <typename Fill>
int ChangeBlocks(Disk& disk, uint64_t offset, uint64_t length, Fill fill) {
  uint64_t end = offset + length;
  for (uint64_t at = offset; at < end;) {
    uint64_t block = at / kBlockSize, within = at % kBlockSize;
    uint64_t n = std::min<uint64_t>(kBlockSize - within, end - at);
    char* bytes = nullptr;
    int rc = OverlayBlock(disk, block, &bytes);
    if (rc != 0) return rc;
    fill(bytes + within, at - offset, n);
    at += n;
  }
  return 0;
}

}  // namespace

int DiskRead(Disk& disk, char* out, size_t size, uint64_t offset) {
  std::lock_guard<std::mutex> lock(disk.mutex);
  if (disk.cut) return -EIO;
  if (ReadFails(disk, offset, size)) return disk.readErrors++, -EIO;
  int rc = ReadBacking(disk, out, size, offset);
  if (rc != 0) return rc;
  uint64_t end = offset + size;
  for (uint64_t block = offset / kBlockSize; block * kBlockSize < end; block++) {
    auto found = disk.overlay.find(block);
    if (found == disk.overlay.end()) continue;
    uint64_t from = std::max(offset, block * kBlockSize), to = std::min(end, (block + 1) * kBlockSize);
    std::memcpy(out + (from - offset), found->second.get() + (from - block * kBlockSize), to - from);
  }
  return 0;
}

int DiskWrite(Disk& disk, const char* bytes, size_t size, uint64_t offset) {
  std::lock_guard<std::mutex> lock(disk.mutex);
  if (disk.cut || CountWriteAndMaybeCut(disk)) return -EIO;
  return ChangeBlocks(disk, offset, size, [&](char* to, uint64_t from, uint64_t n) { std::memcpy(to, bytes + from, n); });
}

int DiskZero(Disk& disk, uint64_t offset, uint64_t length) {
  std::lock_guard<std::mutex> lock(disk.mutex);
  if (disk.cut || CountWriteAndMaybeCut(disk)) return -EIO;
  return ChangeBlocks(disk, offset, length, [](char* to, uint64_t, uint64_t n) { std::memset(to, 0, n); });
}

int DiskFlush(Disk& disk) {
  std::lock_guard<std::mutex> lock(disk.mutex);
  if (disk.cut) return -EIO;
  for (auto& [block, bytes] : disk.overlay) {
    uint64_t size = std::min<uint64_t>(kBlockSize, disk.sizeBytes - block * kBlockSize);
    int rc = WriteBacking(disk, bytes.get(), size, block * kBlockSize);
    if (rc != 0) return rc;
  }
  if (fdatasync(disk.backingFd) != 0) return -errno;
  disk.overlay.clear();
  disk.flushes++;
  return 0;
}

// Called with the mutex held (or before serving starts).
void DiskCutNow(Disk& disk, const char* why) {
  if (disk.cut) return;
  for (auto& [block, bytes] : disk.overlay) {
    bool keep = disk.persist == CutPersist::kRandom && (disk.random() & 1) != 0;
    if (!keep) {
      disk.blocksDroppedAtCut++;
      continue;
    }
    uint64_t size = std::min<uint64_t>(kBlockSize, disk.sizeBytes - block * kBlockSize);
    if (WriteBacking(disk, bytes.get(), size, block * kBlockSize) == 0) disk.blocksKeptAtCut++;
  }
  fdatasync(disk.backingFd);
  disk.overlay.clear();
  disk.cut = true;
  Log("power cut after %llu writes and %llu flushes (%s): %llu unflushed blocks dropped, %llu kept",
      static_cast<unsigned long long>(disk.writes), static_cast<unsigned long long>(disk.flushes), why,
      static_cast<unsigned long long>(disk.blocksDroppedAtCut), static_cast<unsigned long long>(disk.blocksKeptAtCut));
  // The loop ends after this request; every later request finds the connection gone (EIO on the loop device).
  if (disk.session != nullptr) fuse_session_exit(disk.session);
}

bool ParseRanges(const std::string& text, std::vector<SectorRange>& out) {
  out.clear();
  if (text == "none" || text.empty()) return true;
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    size_t plus = item.find('+');
    if (plus == std::string::npos || plus == 0 || plus + 1 == item.size()) return false;
    char* end = nullptr;
    uint64_t first = std::strtoull(item.c_str(), &end, 10);
    if (end != item.c_str() + plus) return false;
    uint64_t count = std::strtoull(item.c_str() + plus + 1, &end, 10);
    if (*end != '\0' || count == 0) return false;
    out.push_back({first, count});
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return true;
}

int DiskControl(Disk& disk, const std::string& line, std::string& error) {
  std::lock_guard<std::mutex> lock(disk.mutex);
  std::string command = line.substr(0, line.find(' '));
  std::string value = line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
  if (command == "cut") return DiskCutNow(disk, "requested"), 0;
  if (command == "cut-after-writes") {
    char* end = nullptr;
    uint64_t n = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n == 0) return error = "cut-after-writes needs a positive count, got '" + value + "'", -EINVAL;
    disk.cutAtWrite = disk.writes + n;
    return 0;
  }
  if (command == "fail-reads") {
    if (!ParseRanges(value, disk.failReads)) return error = "fail-reads needs LBA+COUNT[,LBA+COUNT...] or 'none', got '" + value + "'", -EINVAL;
    return 0;
  }
  error = "unknown command '" + command + "'; use cut, cut-after-writes N, fail-reads LBA+COUNT[,...] or fail-reads none";
  return -EINVAL;
}

std::string DiskStatusJson(Disk& disk) {
  std::lock_guard<std::mutex> lock(disk.mutex);
  std::string ranges;
  for (const SectorRange& r : disk.failReads) {
    ranges += (ranges.empty() ? "\"" : ",\"") + std::to_string(r.firstLba) + "+" + std::to_string(r.count) + "\"";
  }
  return "{\"sizeBytes\":" + std::to_string(disk.sizeBytes) + ",\"writes\":" + std::to_string(disk.writes) +
         ",\"flushes\":" + std::to_string(disk.flushes) + ",\"dirtyBlocks\":" + std::to_string(disk.overlay.size()) +
         ",\"cutAtWrite\":" + std::to_string(disk.cutAtWrite) + ",\"cut\":" + (disk.cut ? "true" : "false") +
         ",\"blocksKeptAtCut\":" + std::to_string(disk.blocksKeptAtCut) + ",\"blocksDroppedAtCut\":" +
         std::to_string(disk.blocksDroppedAtCut) + ",\"readErrors\":" + std::to_string(disk.readErrors) +
         ",\"failReads\":[" + ranges + "]}\n";
}

}  // namespace testdisk
