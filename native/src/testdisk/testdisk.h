// testdisk: a FUSE-served test disk that keeps only what was flushed, for power-cut and read-error tests.
// The disk's writes sit in a volatile overlay in memory and reach the backing file only at FSYNC/FLUSH; a "power cut"
// (at the Nth write, or on request) drops the overlay, fails all further I/O with EIO and ends the process.
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace testdisk {

constexpr uint64_t kBlockSize = 4096;

// What happens to the unflushed blocks at a cut: all dropped, or each one kept or dropped at random (a drive whose
// cache had written back some of them; seeded, so a failing trial can be replayed).
enum class CutPersist { kNone, kRandom };

struct SectorRange {
  uint64_t firstLba;
  uint64_t count;
};

struct Disk {
  std::string backingPath;
  int backingFd = -1;
  uint64_t sizeBytes = 0;
  uint64_t maxWriteBytes = 1 << 20;
  std::mutex mutex;  // guards everything below (requests are served one at a time anyway)
  std::unordered_map<uint64_t, std::unique_ptr<char[]>> overlay;  // block number -> unflushed contents
  uint64_t writes = 0;          // WRITE and FALLOCATE requests served (or refused by the cut)
  uint64_t flushes = 0;         // FSYNC and FLUSH requests that persisted the overlay
  uint64_t readErrors = 0;      // reads failed on purpose
  uint64_t cutAtWrite = 0;      // 0: not armed; else the write number (1-based, counted from the start) that cuts
  bool cut = false;
  uint64_t blocksKeptAtCut = 0;
  uint64_t blocksDroppedAtCut = 0;
  CutPersist persist = CutPersist::kNone;
  std::mt19937_64 random{1};
  std::vector<SectorRange> failReads;  // 512-byte sectors
  fuse_session* session = nullptr;
};

Disk& TheDisk();
void Log(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Disk semantics (disk_state.cc); each takes the mutex. Return 0 or a negative errno.
int DiskRead(Disk& disk, char* out, size_t size, uint64_t offset);
int DiskWrite(Disk& disk, const char* bytes, size_t size, uint64_t offset);
int DiskZero(Disk& disk, uint64_t offset, uint64_t length);
int DiskFlush(Disk& disk);
void DiskCutNow(Disk& disk, const char* why);
// Control commands: "cut", "cut-after-writes N" (N more writes), "fail-reads LBA+COUNT[,...]", "fail-reads none".
int DiskControl(Disk& disk, const std::string& command, std::string& error);
std::string DiskStatusJson(Disk& disk);
bool ParseRanges(const std::string& text, std::vector<SectorRange>& out);

const fuse_lowlevel_ops& FuseOps();

}  // namespace testdisk
