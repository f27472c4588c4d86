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

// Old bytes still in the memory queue are read from there.
bool PendingRead(Snapshot& snapshot, char* block, uint64_t slot) {
  std::lock_guard<std::mutex> lock(snapshot.pendingMutex);
  auto it = snapshot.pendingRuns.upper_bound(slot);
  if (it == snapshot.pendingRuns.begin()) return false;
  --it;
  if (slot >= it->first + it->second.first) return false;
  std::memcpy(block, it->second.second + (slot - it->first) * kBlockSize, kBlockSize);
  return true;
}

int DiffRead(Snapshot& snapshot, char* block, uint64_t slot) {
  if (PendingRead(snapshot, block, slot)) return 0;
  if (snapshot.diffDirectFd >= 0 && reinterpret_cast<uintptr_t>(block) % kBlockSize == 0) {
    int rc = PreadFull(snapshot.diffDirectFd, block, kBlockSize, slot * kBlockSize);
    if (rc != -EINVAL) return rc;
  }
  return PreadFull(snapshot.diffBufferedFd, block, kBlockSize, slot * kBlockSize);
}

}  // namespace

int DiffWriteSync(Engine& engine, const char* blocks, uint64_t length, uint64_t offset) {
  Snapshot& snapshot = engine.snapshot;
  if (snapshot.diffDirectFd >= 0 && reinterpret_cast<uintptr_t>(blocks) % kBlockSize == 0) {
    int rc = PwriteFull(snapshot.diffDirectFd, blocks, length, offset);
    if (rc != -EINVAL) return rc;
  }
  return PwriteFull(snapshot.diffBufferedFd, blocks, length, offset);
}

// Extends the store (fallocate, in steps) until it holds `slots` slots, never into the reserve its filesystem keeps free,
// nor past --diff-limit. Also refreshes the capacity the warnings are measured against. False, with `error` set, when it
// cannot.
static bool GrowStore(Engine& engine, uint64_t slots, std::string& error) {
  Snapshot& s = engine.snapshot;
  if (slots <= s.allocatedSlots.load(std::memory_order_acquire)) return true;
  std::lock_guard<std::mutex> lock(s.growMutex);
  while (slots > s.allocatedSlots.load()) {
    uint64_t allocated = s.allocatedSlots.load();
    struct statvfs vfs;
    uint64_t room = 0;
    if (statvfs(engine.diffDir.c_str(), &vfs) == 0) {
      uint64_t freeBytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
      room = freeBytes > s.reserveBytes ? (freeBytes - s.reserveBytes) / kBlockSize : 0;
    }
    s.capacitySlots.store(std::min(s.slotLimit, allocated + room));
    uint64_t step = std::min({kDiffGrowStep / kBlockSize, room, s.slotLimit - allocated});
    if (step == 0) {
      error = "DIFF_STORE_FULL: the diff store in '" + engine.diffDir + "' cannot grow past " + std::to_string(allocated * kBlockSize) + " bytes: " +
              (allocated >= s.slotLimit ? "that is its limit (--diff-limit-mib)" : "its filesystem keeps " + std::to_string(s.reserveBytes) + " bytes free");
      return false;
    }
    if (fallocate(s.diffBufferedFd, 0, static_cast<off_t>(allocated * kBlockSize), static_cast<off_t>(step * kBlockSize)) != 0) {
      error = std::string(errno == ENOSPC ? "DIFF_STORE_FULL" : "DIFF_STORE_IO") + ": cannot extend the diff store '" + s.diffPath + "': " + strerror(errno);
      return false;
    }
    s.allocatedSlots.store(allocated + step, std::memory_order_release);
  }
  return true;
}

// Called with switchLock held exclusively: no write is in flight.
int SnapshotPrepare(Engine& engine, std::string& error) {
  Snapshot& s = engine.snapshot;
  if (s.state.load() != static_cast<int>(SnapshotState::kNone)) {
    error = "SNAPSHOT_EXISTS: snapshot " + std::to_string(s.id) + " exists; delete it first";
    return -EEXIST;
  }
  if (s.prepared) return 0;
  struct statvfs vfs;
  if (statvfs(engine.diffDir.c_str(), &vfs) != 0) {
    error = "DIFF_STORE_UNAVAILABLE: statvfs '" + engine.diffDir + "': " + strerror(errno);
    return -errno;
  }
  // The store's filesystem always keeps a reserve free: 5% of its size, at least one growth step.
  s.reserveBytes = std::max<uint64_t>(kDiffGrowStep, static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize / 20);
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
    s.claimed.reset(new AtomicBitmap(engine.blocks));
    s.slotOf.reset(new SlotTable(engine.blocks));
  }
  s.preserved->Clear();
  s.claimed->Clear();
  s.slotOf->Clear();
  s.nextSlot.store(0);
  s.warnedPercent.store(0);
  // Slots are 32-bit: at most 16 TiB of old blocks per snapshot.
  s.slotLimit = std::min<uint64_t>(engine.diffLimitBytes ? engine.diffLimitBytes / kBlockSize : UINT32_MAX, UINT32_MAX);
  s.allocatedSlots.store(0);
  s.capacitySlots.store(s.slotLimit);
  s.failure.clear();
  // The first step now: a store that cannot take even that is refused before the snapshot exists.
  if (!GrowStore(engine, 1, error)) {
    CloseDiff(s);
    return -ENOSPC;
  }
  s.prepared = true;
  return 0;
}

int SnapshotCreate(Engine& engine, std::string& error) {
  Snapshot& s = engine.snapshot;
  int rc = SnapshotPrepare(engine, error);
  if (rc != 0) return rc;
  s.prepared = false;
  s.createdAtMs = NowMs();
  s.state.store(static_cast<int>(SnapshotState::kActive));
  Log("snapshot %llu active, diff store '%s' (%llu bytes allocated, grows in steps of %llu up to %llu, keeping %llu free)",
      static_cast<unsigned long long>(s.id), s.diffPath.c_str(), static_cast<unsigned long long>(s.allocatedSlots.load() * kBlockSize),
      static_cast<unsigned long long>(kDiffGrowStep), static_cast<unsigned long long>(s.capacitySlots.load() * kBlockSize),
      static_cast<unsigned long long>(s.reserveBytes));
  return 0;
}

// Called with switchLock held exclusively.
void SnapshotDelete(Engine& engine) {
  Snapshot& s = engine.snapshot;
  s.prepared = false;
  s.state.store(static_cast<int>(SnapshotState::kNone));
  {
    // Old bytes still on their way to the diff store: let them land before the store goes.
    std::unique_lock<std::mutex> lock(s.pendingMutex);
    s.pendingCv.wait(lock, [&] { return s.pendingRuns.empty(); });
  }
  CloseDiff(s);
  s.nextSlot.store(0);
}

// Logs (once each) when the diff store passes 80, 90 and 95% of its limit; status reports the highest reached.
static void WarnAsFilling(Snapshot& s, uint64_t usedSlots) {
  uint64_t capacity = s.capacitySlots.load();
  for (int percent : {95, 90, 80}) {
    if (usedSlots * 100 < capacity * static_cast<uint64_t>(percent)) continue;
    int before = s.warnedPercent.load();
    while (before < percent && !s.warnedPercent.compare_exchange_weak(before, percent)) {}
    if (before < percent) {
      Log("warning: snapshot %llu's diff store is %d%% full (%llu of %llu bytes)", static_cast<unsigned long long>(s.id), percent,
          static_cast<unsigned long long>(usedSlots * kBlockSize), static_cast<unsigned long long>(capacity * kBlockSize));
    }
    return;
  }
}

static bool Active(const Snapshot& s) { return s.state.load(std::memory_order_acquire) == static_cast<int>(SnapshotState::kActive); }

// The protocol between first writes and snapshot reads, without locks held across I/O:
//  - a writer claims each block it will preserve (an atomic test-and-set), reads the old bytes, publishes them (the
//    memory queue, then the preserved bit), and only then lets its write reach the origin;
//  - a block claimed by another writer and not yet preserved makes a write wait (the ring defers it) until it is;
//  - a reader reads a block not yet preserved from the origin, then looks at the claim: unclaimed, its bytes are the
//    old ones (any write to it comes after a claim); claimed, it waits for the preserved copy and reads that.
void CowSpan(const Engine& engine, uint64_t first, uint64_t last, uint64_t& spanFirst, uint64_t& spanLast) {
  uint64_t chunk = engine.cowChunkBlocks;
  spanFirst = first - first % chunk;
  spanLast = std::min(engine.blocks - 1, last - last % chunk + chunk - 1);
  if (spanLast - spanFirst + 1 > 64 * (sizeof(PreserveClaim::mine) / sizeof(uint64_t))) spanFirst = first, spanLast = last;
}

bool ClaimBlocks(Engine& engine, uint64_t first, uint64_t last, PreserveClaim& claim) {
  Snapshot& s = engine.snapshot;
  claim.mine[0] = claim.mine[1] = claim.mine[2] = 0;
  claim.count = 0;
  // Unclaimed blocks of the chunks around the write are safe to copy too: nothing writes a block before claiming it.
  CowSpan(engine, first, last, first, last);
  for (uint64_t b = first; b <= last; b++) {
    if (s.preserved->Test(b) || !s.claimed->TestAndSet(b)) continue;
    uint64_t i = b - first;
    claim.mine[i >> 6] |= uint64_t{1} << (i & 63);
    if (claim.count == 0) claim.spanFirst = b;
    claim.spanLast = b;
    claim.count++;
  }
  claim.first = first;
  if (claim.count == 0) return false;
  uint64_t span = claim.spanLast - claim.spanFirst + 1;
  claim.slot = s.nextSlot.fetch_add(span);
  std::string error;
  if (claim.slot + span > s.slotLimit) {
    Fail(s, "DIFF_STORE_FULL: the diff store in '" + engine.diffDir + "' holds its limit of " + std::to_string(s.slotLimit * kBlockSize) + " bytes");
    return false;
  }
  if (!GrowStore(engine, claim.slot + span, error)) {
    Fail(s, error);
    return false;
  }
  return true;
}

bool AllPreserved(Engine& engine, uint64_t first, uint64_t last) {
  Snapshot& s = engine.snapshot;
  for (uint64_t b = first; b <= last; b++) {
    if (!Active(s)) return true;  // a failed snapshot keeps no one waiting
    if (!s.preserved->Test(b)) return false;
  }
  return true;
}

// The old bytes of the claim's span are in `bytes` (a pooled buffer that now belongs to the memory queue until the
// diff store has them): publish them for readers, then mark the claimed blocks preserved.
void PublishPreserved(Engine& engine, const PreserveClaim& claim, const char* bytes) {
  Snapshot& s = engine.snapshot;
  uint64_t span = claim.spanLast - claim.spanFirst + 1;
  {
    std::lock_guard<std::mutex> lock(s.pendingMutex);
    s.pendingRuns[claim.slot] = {span, bytes};
  }
  WarnAsFilling(s, claim.slot + span);
  for (uint64_t b = claim.spanFirst; b <= claim.spanLast; b++) {
    uint64_t i = b - claim.first;
    if (!((claim.mine[i >> 6] >> (i & 63)) & 1)) continue;
    s.slotOf->Set(b, static_cast<uint32_t>(claim.slot + (b - claim.spanFirst)));
    s.preserved->Set(b);  // release: the slot and the queued bytes are visible before the bit
  }
}

void PreserveFailed(Engine& engine, const PreserveClaim& claim, int rc) {
  Snapshot& s = engine.snapshot;
  Fail(s, std::string(rc == -ENOSPC ? "DIFF_STORE_FULL" : "DIFF_STORE_IO") + ": cannot preserve blocks " + std::to_string(claim.spanFirst) + "-" +
              std::to_string(claim.spanLast) + " in '" + s.diffPath + "': " + strerror(-rc));
}

// The diff store has the bytes queued at `slot` (or failed to take them): they leave the memory queue.
void DiffLanded(Engine& engine, uint64_t slot, int rc, uint64_t spanFirst, uint64_t spanLast) {
  Snapshot& s = engine.snapshot;
  if (rc != 0) {
    PreserveClaim claim;
    claim.spanFirst = spanFirst;
    claim.spanLast = spanLast;
    PreserveFailed(engine, claim, rc);
  }
  std::lock_guard<std::mutex> lock(s.pendingMutex);
  s.pendingRuns.erase(slot);
  if (s.pendingRuns.empty()) s.pendingCv.notify_all();
}

static void WaitPreserved(Engine& engine, uint64_t first, uint64_t last) {
  while (!AllPreserved(engine, first, last)) usleep(50);
}

// The synchronous path (libfuse's worker threads, when the rings are not running): the same protocol, waiting instead
// of deferring.
void PreserveBlocks(Engine& engine, uint64_t first, uint64_t last) {
  constexpr uint64_t kMaxRunBlocks = kMaxIoBytes / kBlockSize;
  for (uint64_t chunk = first; chunk <= last; chunk += kMaxRunBlocks) {
    if (!Active(engine.snapshot)) return;
    uint64_t chunkLast = std::min(last, chunk + kMaxRunBlocks - 1);
    PreserveClaim claim;
    if (ClaimBlocks(engine, chunk, chunkLast, claim)) {
      size_t length = (claim.spanLast - claim.spanFirst + 1) * kBlockSize;
      size_t cls = 0;
      bool async = AsyncIoStarted();
      char* old = async ? TakeIoBuffer(length, cls) : AlignedScratch(length, 3);
      int rc = old == nullptr ? -ENOMEM : OriginRead(engine.origin, old, length, claim.spanFirst * kBlockSize);
      if (rc != 0) {
        if (old != nullptr && async) GiveIoBuffer(old, cls);
        PreserveFailed(engine, claim, rc);
        return;
      }
      PublishPreserved(engine, claim, old);
      if (async) {
        Snapshot& s = engine.snapshot;
        int fd = s.diffDirectFd >= 0 ? s.diffDirectFd : s.diffBufferedFd;
        uint64_t slot = claim.slot, spanFirst = claim.spanFirst, spanLast = claim.spanLast;
        AsyncDiffWrite(fd, old, cls, length, slot * kBlockSize,
                       [&engine, slot, spanFirst, spanLast](int result) { DiffLanded(engine, slot, result, spanFirst, spanLast); });
      } else {
        DiffLanded(engine, claim.slot, DiffWriteSync(engine, old, length, claim.slot * kBlockSize), claim.spanFirst, claim.spanLast);
      }
    }
    WaitPreserved(engine, chunk, chunkLast);  // blocks another writer claimed
  }
}

int SnapshotRead(Engine& engine, char* buffer, size_t length, uint64_t offset) {
  Snapshot& s = engine.snapshot;
  if (!Active(s)) return -EIO;
  uint64_t first = offset / kBlockSize;
  uint64_t last = (offset + length - 1) / kBlockSize;
  int rc = 0;
  char* block = AlignedScratch(kBlockSize, 3);
  // One block from where the snapshot keeps it: the preserved copy, or the origin when nothing claimed it.
  auto readBlock = [&](uint64_t b, char* into) {
    if (s.preserved->Test(b)) return DiffRead(s, into, s.slotOf->Get(b));
    int r = OriginRead(engine.origin, into, kBlockSize, b * kBlockSize);
    if (r != 0 || !s.claimed->Test(b)) return r;
    WaitPreserved(engine, b, b);
    return Active(s) ? DiffRead(s, into, s.slotOf->Get(b)) : -EIO;
  };
  for (uint64_t b = first; b <= last && rc == 0; b++) {
    uint64_t blockStart = b * kBlockSize;
    uint64_t from = std::max(offset, blockStart);
    uint64_t to = std::min(offset + length, blockStart + kBlockSize);
    char* target = buffer + (from - offset);
    bool whole = from == blockStart && to == blockStart + kBlockSize;
    if (!whole) {
      rc = readBlock(b, block);
      if (rc == 0) std::memcpy(target, block + (from - blockStart), to - from);
      continue;
    }
    if (s.preserved->Test(b)) {
      rc = DiffRead(s, target, s.slotOf->Get(b));
      continue;
    }
    // A run of whole blocks not preserved: one origin read, then the blocks claimed meanwhile from their copies.
    uint64_t end = b;
    while (end + 1 <= last && !s.preserved->Test(end + 1) && (end + 2) * kBlockSize <= offset + length) end++;
    rc = OriginRead(engine.origin, target, (end - b + 1) * kBlockSize, blockStart);
    for (uint64_t c = b; c <= end && rc == 0; c++) {
      if (!s.claimed->Test(c)) continue;
      WaitPreserved(engine, c, c);
      rc = Active(s) ? DiffRead(s, target + (c - b) * kBlockSize, s.slotOf->Get(c)) : -EIO;
    }
    b = end;
  }
  if (rc != 0) return rc;
  return Active(s) ? 0 : -EIO;
}

uint64_t DiffStoreBytes(const Engine& engine) {
  const Snapshot& s = engine.snapshot;
  if (s.state.load() == static_cast<int>(SnapshotState::kNone)) return 0;
  return std::min(s.nextSlot.load(), s.allocatedSlots.load()) * kBlockSize;
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
