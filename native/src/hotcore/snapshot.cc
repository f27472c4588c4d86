// Copy-before-write: from the cut on, the first write to each 4 KiB block first copies the old block into the diff
// store; the snapshot reads the diff store where a block was preserved and the origin elsewhere. A full diff store
// fails the snapshot (never the write).
#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "engine.h"

namespace hotcore {

namespace {

size_t StripeOf(uint64_t block) { return static_cast<size_t>(block % kStripeCount); }

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void Fail(Snapshot& snapshot, const std::string& why) {
  std::lock_guard<std::mutex> lock(snapshot.failureMutex);
  if (snapshot.state.load() != static_cast<int>(SnapshotState::kActive)) return;
  snapshot.failure = why;
  snapshot.failedAtMs = NowMs();
  snapshot.state.store(static_cast<int>(SnapshotState::kFailed));
  Log("snapshot %llu failed: %s", static_cast<unsigned long long>(snapshot.id), why.c_str());
}

void CloseDiff(Snapshot& snapshot) {
  if (snapshot.diffDirectFd >= 0) close(snapshot.diffDirectFd);
  if (snapshot.diffBufferedFd >= 0) close(snapshot.diffBufferedFd);
  snapshot.diffDirectFd = snapshot.diffBufferedFd = -1;
  if (!snapshot.diffPath.empty()) unlink(snapshot.diffPath.c_str());
  snapshot.diffPath.clear();
}

int DiffWrite(Snapshot& snapshot, const char* blocks, uint64_t length, uint64_t slot) {
  if (snapshot.diffDirectFd >= 0) {
    int rc = PwriteFull(snapshot.diffDirectFd, blocks, length, slot * kBlockSize);
    if (rc != -EINVAL) return rc;
  }
  return PwriteFull(snapshot.diffBufferedFd, blocks, length, slot * kBlockSize);
}

int DiffRead(Snapshot& snapshot, char* block, uint64_t slot) {
  if (snapshot.diffDirectFd >= 0 && reinterpret_cast<uintptr_t>(block) % kBlockSize == 0) {
    int rc = PreadFull(snapshot.diffDirectFd, block, kBlockSize, slot * kBlockSize);
    if (rc != -EINVAL) return rc;
  }
  return PreadFull(snapshot.diffBufferedFd, block, kBlockSize, slot * kBlockSize);
}

}  // namespace

// Called with switchLock held exclusively: no write is in flight.
int SnapshotCreate(Engine& engine, std::string& error) {
  Snapshot& s = engine.snapshot;
  if (s.state.load() != static_cast<int>(SnapshotState::kNone)) {
    error = "SNAPSHOT_EXISTS: snapshot " + std::to_string(s.id) + " exists; delete it first";
    return -EEXIST;
  }
  uint64_t limit = engine.diffLimitBytes;
  struct statvfs vfs;
  if (statvfs(engine.diffDir.c_str(), &vfs) != 0) {
    error = "DIFF_STORE_UNAVAILABLE: statvfs '" + engine.diffDir + "': " + strerror(errno);
    return -errno;
  }
  uint64_t freeBytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  uint64_t reserve = freeBytes / 10;  // leave the diff store's filesystem a tenth of its free space
  if (limit == 0 || limit > freeBytes - reserve) limit = freeBytes - reserve;
  s.id++;
  s.diffPath = engine.diffDir + "/snapshot-" + std::to_string(getpid()) + "-" + std::to_string(s.id) + ".diff";
  s.diffBufferedFd = open(s.diffPath.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (s.diffBufferedFd < 0) {
    error = "DIFF_STORE_UNAVAILABLE: cannot create '" + s.diffPath + "': " + strerror(errno);
    s.diffPath.clear();
    return -errno;
  }
  s.diffDirectFd = open(s.diffPath.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  if (!s.preserved) {
    s.preserved.reset(new AtomicBitmap(engine.blocks));
    s.slotOf.reset(new uint32_t[engine.blocks]);
  }
  s.preserved->Clear();
  s.nextSlot.store(0);
  s.warnedPercent.store(0);
  s.slotLimit = std::min<uint64_t>(limit / kBlockSize, UINT32_MAX);
  s.failure.clear();
  s.createdAtMs = NowMs();
  s.state.store(static_cast<int>(SnapshotState::kActive));
  Log("snapshot %llu active, diff store '%s' up to %llu bytes", static_cast<unsigned long long>(s.id), s.diffPath.c_str(),
      static_cast<unsigned long long>(s.slotLimit * kBlockSize));
  return 0;
}

// Called with switchLock held exclusively.
void SnapshotDelete(Engine& engine) {
  Snapshot& s = engine.snapshot;
  s.state.store(static_cast<int>(SnapshotState::kNone));
  CloseDiff(s);
  s.nextSlot.store(0);
}

// Locks the stripes of blocks [first, last] in ascending stripe order (every multi-stripe holder does, so none can
// deadlock another) and returns them for UnlockStripes.
static std::vector<size_t> LockStripes(Snapshot& s, uint64_t first, uint64_t last) {
  std::vector<size_t> stripes;
  for (uint64_t b = first; b <= last && stripes.size() < kStripeCount; b++) stripes.push_back(StripeOf(b));
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t stripe : stripes) s.stripes[stripe].lock();
  return stripes;
}

static void UnlockStripes(Snapshot& s, const std::vector<size_t>& stripes) {
  for (auto it = stripes.rbegin(); it != stripes.rend(); ++it) s.stripes[*it].unlock();
}

// Logs (once each) when the diff store passes 80, 90 and 95% of its limit; status reports the highest reached.
static void WarnAsFilling(Snapshot& s, uint64_t usedSlots) {
  for (int percent : {95, 90, 80}) {
    if (usedSlots * 100 < s.slotLimit * static_cast<uint64_t>(percent)) continue;
    int before = s.warnedPercent.load();
    while (before < percent && !s.warnedPercent.compare_exchange_weak(before, percent)) {}
    if (before < percent) {
      Log("warning: snapshot %llu's diff store is %d%% full (%llu of %llu bytes)", static_cast<unsigned long long>(s.id), percent,
          static_cast<unsigned long long>(usedSlots * kBlockSize), static_cast<unsigned long long>(s.slotLimit * kBlockSize));
    }
    return;
  }
}

// Copies blocks [first, last] (all not preserved, their stripes held) into consecutive diff-store slots: one origin
// read and one diff-store write for the run, not one per block.
static bool PreserveRun(Engine& engine, uint64_t first, uint64_t last) {
  Snapshot& s = engine.snapshot;
  uint64_t count = last - first + 1;
  uint64_t slot = s.nextSlot.fetch_add(count);
  if (slot + count > s.slotLimit) {
    Fail(s, "DIFF_STORE_FULL: the diff store in '" + engine.diffDir + "' holds its limit of " +
                std::to_string(s.slotLimit * kBlockSize) + " bytes");
    return false;
  }
  char* old = AlignedScratch(count * kBlockSize, 3);
  int rc = old == nullptr ? -ENOMEM : OriginRead(engine.origin, old, count * kBlockSize, first * kBlockSize);
  if (rc == 0) rc = DiffWrite(s, old, count * kBlockSize, slot);
  if (rc != 0) {
    Fail(s, std::string(rc == -ENOSPC ? "DIFF_STORE_FULL" : "DIFF_STORE_IO") + ": cannot preserve blocks " +
                std::to_string(first) + "-" + std::to_string(last) + " in '" + s.diffPath + "': " + strerror(-rc));
    return false;
  }
  WarnAsFilling(s, slot + count);
  for (uint64_t b = first; b <= last; b++) {
    s.slotOf[b] = static_cast<uint32_t>(slot + (b - first));
    s.preserved->Set(b);  // release: the slot and the diff bytes are visible before the bit
  }
  return true;
}

void PreserveBlocks(Engine& engine, uint64_t first, uint64_t last) {
  Snapshot& s = engine.snapshot;
  constexpr uint64_t kMaxRunBlocks = kMaxIoBytes / kBlockSize;
  for (uint64_t block = first; block <= last;) {
    if (s.state.load(std::memory_order_acquire) != static_cast<int>(SnapshotState::kActive)) return;
    if (s.preserved->Test(block)) {
      block++;
      continue;
    }
    uint64_t end = block;
    while (end < last && end - block + 1 < kMaxRunBlocks && !s.preserved->Test(end + 1)) end++;
    std::vector<size_t> stripes = LockStripes(s, block, end);
    // Another writer may have preserved some of the run meanwhile: copy the pieces still missing.
    bool ok = true;
    for (uint64_t b = block; b <= end && ok;) {
      if (s.preserved->Test(b)) {
        b++;
        continue;
      }
      uint64_t pieceEnd = b;
      while (pieceEnd < end && !s.preserved->Test(pieceEnd + 1)) pieceEnd++;
      ok = s.state.load(std::memory_order_acquire) == static_cast<int>(SnapshotState::kActive) && PreserveRun(engine, b, pieceEnd);
      b = pieceEnd + 1;
    }
    UnlockStripes(s, stripes);
    if (!ok) return;
    block = end + 1;
  }
}

int SnapshotRead(Engine& engine, char* buffer, size_t length, uint64_t offset) {
  Snapshot& s = engine.snapshot;
  auto active = [&] { return s.state.load(std::memory_order_acquire) == static_cast<int>(SnapshotState::kActive); };
  if (!active()) return -EIO;
  // Blocks not yet preserved are read from the origin under their stripe locks, so no first write can slip in between
  // the check and the read.
  uint64_t first = offset / kBlockSize;
  uint64_t last = (offset + length - 1) / kBlockSize;
  std::vector<size_t> stripes = LockStripes(s, first, last);
  int rc = 0;
  char* block = AlignedScratch(kBlockSize, 3);
  for (uint64_t b = first; b <= last && rc == 0; b++) {
    uint64_t blockStart = b * kBlockSize;
    uint64_t from = std::max(offset, blockStart);
    uint64_t to = std::min(offset + length, blockStart + kBlockSize);
    char* target = buffer + (from - offset);
    bool whole = from == blockStart && to == blockStart + kBlockSize;
    if (s.preserved->Test(b)) {
      char* into = whole ? target : block;
      rc = DiffRead(s, into, s.slotOf[b]);
      if (rc == 0 && !whole) std::memcpy(target, block + (from - blockStart), to - from);
    } else if (whole) {
      // Runs of origin blocks in one read: extend while the next blocks are also not preserved.
      uint64_t end = b;
      while (end + 1 <= last && !s.preserved->Test(end + 1) &&
             (end + 2) * kBlockSize <= offset + length) end++;
      rc = OriginRead(engine.origin, target, (end - b + 1) * kBlockSize, blockStart);
      b = end;
    } else {
      rc = OriginRead(engine.origin, block, kBlockSize, blockStart);
      if (rc == 0) std::memcpy(target, block + (from - blockStart), to - from);
    }
  }
  UnlockStripes(s, stripes);
  if (rc != 0) return rc;
  return active() ? 0 : -EIO;
}

uint64_t DiffStoreBytes(const Engine& engine) {
  const Snapshot& s = engine.snapshot;
  if (s.state.load() == static_cast<int>(SnapshotState::kNone)) return 0;
  return std::min(s.nextSlot.load(), s.slotLimit) * kBlockSize;
}

uint64_t FailedAtMs(Engine& engine) {
  std::lock_guard<std::mutex> lock(engine.snapshot.failureMutex);
  return engine.snapshot.failedAtMs;
}

std::string SnapshotFailure(Engine& engine) {
  std::lock_guard<std::mutex> lock(engine.snapshot.failureMutex);
  return engine.snapshot.failure;
}

}  // namespace hotcore
