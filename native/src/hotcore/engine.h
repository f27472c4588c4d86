// The hotcore engine's shared state: the origin it serves, the changed-block map and the copy-before-write snapshot.
// The data path (FUSE requests to origin and diff store) stays in this process; JavaScript only speaks to the control socket.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace hotcore {

constexpr uint64_t kBlockSize = 4096;
constexpr uint64_t kDiffGrowStep = 64ull << 20;  // the diff store grows by this much at a time
// The largest FUSE read or write (max_write; libfuse derives max_pages from it). Each io_uring queue entry holds a
// payload buffer this big, so it also sizes the rings' memory: 2 queues x 32 entries x 512 KiB = 32 MiB, mlocked.
constexpr size_t kMaxIoBytes = 512 << 10;
// Copy-before-write works in chunks (default 64 KiB, as LVM thin pools; blksnap uses 256 KiB; --cow-chunk-kib 4 to
// 256): the first write into a chunk preserves every block of it not yet preserved, so later writes nearby find their
// blocks copied already (one origin read instead of up to sixteen). The changed-block map stays at 4 KiB.
constexpr uint64_t kDefaultCowChunkBlocks = 16;
constexpr fuse_ino_t kVolumeInode = 2;
constexpr fuse_ino_t kSnapshotInode = 3;

// A fixed-size bitmap whose bits are set and read concurrently from the FUSE worker threads.
class AtomicBitmap {
 public:
  explicit AtomicBitmap(uint64_t bits);
  bool Test(uint64_t bit) const { return (words_[bit >> 6].load(std::memory_order_acquire) >> (bit & 63)) & 1; }
  void Set(uint64_t bit) { words_[bit >> 6].fetch_or(uint64_t{1} << (bit & 63), std::memory_order_acq_rel); }
  // Sets the bit; true when this call set it (it was clear).
  bool TestAndSet(uint64_t bit) {
    uint64_t mask = uint64_t{1} << (bit & 63);
    return !(words_[bit >> 6].fetch_or(mask, std::memory_order_acq_rel) & mask);
  }
  void SetRange(uint64_t first, uint64_t last);
  void Clear();
  uint64_t Count() const;
  // Copies the words out and clears them, word by word: each concurrent Set lands in exactly one of the two.
  std::vector<uint64_t> TakeWords();
  uint64_t bits() const { return bits_; }

 private:
  uint64_t bits_;
  size_t wordCount_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
};

// The cut between writes: writes hold it shared from the moment they decide how to land until they have landed, and
// snapshot and generation switches hold it exclusively, so every write lands wholly before or wholly after a cut. The
// exclusive side is preferred (a steady stream of writes under fio's QD32 must not starve a switch), and a shared hold
// may be released by another thread than the one that took it: a write lands in the io_uring completion thread.
class SwitchLock {
 public:
  void lock_shared() {
    for (;;) {
      inflight_.fetch_add(1);
      if (!closed_.load()) return;
      unlock_shared();
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return !closed_.load(); });
    }
  }
  // The ring threads' way in: they must never wait for a cut (they reap the writes the cut waits for).
  bool try_lock_shared() {
    inflight_.fetch_add(1);
    if (!closed_.load()) return true;
    unlock_shared();
    return false;
  }
  void unlock_shared() {
    if (inflight_.fetch_sub(1) == 1 && closed_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      cv_.notify_all();
    }
  }
  void lock() {
    exclusive_.lock();
    closed_.store(true);
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return inflight_.load() == 0; });
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_.store(false);
    }
    cv_.notify_all();
    exclusive_.unlock();
  }

 private:
  std::atomic<int> inflight_{0};
  std::atomic<bool> closed_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::mutex exclusive_;
};

// Block -> diff-store slot, in pages allocated at a block's first preservation: memory follows what the snapshot
// preserved (4 bytes per preserved block's 64K-block page), not the volume's size. Pages appear with an atomic
// compare-and-swap; an entry is valid once the block's preserved bit is seen (set after it).
class SlotTable {
 public:
  static constexpr uint64_t kPageBlocks = 65536;  // 256 KiB pages
  explicit SlotTable(uint64_t blocks) : pageCount_((blocks + kPageBlocks - 1) / kPageBlocks), pages_(new std::atomic<uint32_t*>[pageCount_]) {
    for (size_t i = 0; i < pageCount_; i++) pages_[i].store(nullptr);
  }
  ~SlotTable() { Clear(); }
  SlotTable(const SlotTable&) = delete;
  SlotTable& operator=(const SlotTable&) = delete;
  void Set(uint64_t block, uint32_t slot) {
    std::atomic<uint32_t*>& page = pages_[block / kPageBlocks];
    uint32_t* p = page.load(std::memory_order_acquire);
    if (p == nullptr) {
      uint32_t* fresh = new uint32_t[kPageBlocks];
      if (page.compare_exchange_strong(p, fresh, std::memory_order_acq_rel)) p = fresh;
      else delete[] fresh;  // another writer's page won; `p` is it
    }
    p[block % kPageBlocks] = slot;
  }
  uint32_t Get(uint64_t block) const { return pages_[block / kPageBlocks].load(std::memory_order_acquire)[block % kPageBlocks]; }
  // Only while nothing reads or writes the table (between snapshots).
  void Clear() {
    for (size_t i = 0; i < pageCount_; i++) delete[] pages_[i].exchange(nullptr);
  }
  uint64_t BytesAllocated() const {
    uint64_t n = 0;
    for (size_t i = 0; i < pageCount_; i++) n += pages_[i].load() != nullptr ? kPageBlocks * sizeof(uint32_t) : 0;
    return n;
  }

 private:
  size_t pageCount_;
  std::unique_ptr<std::atomic<uint32_t*>[]> pages_;
};

enum class SnapshotState { kNone = 0, kActive = 1, kFailed = 2 };

// The origin: a block device or image file, read and written with O_DIRECT where alignment allows.
struct Origin {
  std::string path;
  int directFd = -1;    // O_DIRECT, or -1 when the origin refuses it
  int bufferedFd = -1;  // unaligned requests and fallocate
  uint64_t sizeBytes = 0;
  uint64_t directAlign = 512;
  bool blockDevice = false;
};

// The copy-before-write snapshot: which blocks were preserved and where their old bytes sit in the diff store.
struct Snapshot {
  std::atomic<int> state{static_cast<int>(SnapshotState::kNone)};
  bool prepared = false;  // SnapshotPrepare ran and no snapshot was created or deleted since (control thread only)
  uint64_t id = 0;
  uint64_t createdAtMs = 0;
  uint64_t failedAtMs = 0;  // guarded by failureMutex
  std::string failure;  // "DIFF_STORE_FULL: ..." once failed; guarded by failureMutex
  std::mutex failureMutex;
  std::unique_ptr<AtomicBitmap> preserved;
  std::unique_ptr<SlotTable> slotOf;  // block -> diff-store slot; valid once the preserved bit is seen
  std::string diffPath;
  int diffDirectFd = -1;
  int diffBufferedFd = -1;
  std::atomic<uint64_t> nextSlot{0};
  uint64_t slotLimit = 0;                  // --diff-limit, else what 32-bit slots can address
  std::atomic<uint64_t> allocatedSlots{0};  // the store file's allocated size, grown in steps
  std::atomic<uint64_t> capacitySlots{0};   // how far it could grow at the last look (warnings count against it)
  uint64_t reserveBytes = 0;                // kept free on the store's filesystem
  std::mutex growMutex;
  std::atomic<int> warnedPercent{0};  // the highest of 80, 90, 95 the diff store's use has reached
  std::unique_ptr<AtomicBitmap> claimed;  // a writer took the block's preservation on (set before `preserved`)
  // Preserved runs whose old bytes are still on their way to the diff store (the bounded memory queue): first slot ->
  // (slot count, bytes). Snapshot reads take them from here until the diff store has them.
  std::mutex pendingMutex;
  std::condition_variable pendingCv;
  std::map<uint64_t, std::pair<uint64_t, const char*>> pendingRuns;
};

struct Engine {
  Origin origin;
  std::string mountDir;
  std::string diffDir;
  std::string controlPath;
  uint64_t diffLimitBytes = 0;  // 0: 90% of the diff dir's free space at snapshot time
  uint64_t cowChunkBlocks = kDefaultCowChunkBlocks;  // a power of two, 1 to 64
  uint64_t blocks = 0;
  std::unique_ptr<AtomicBitmap> changed;
  std::atomic<uint64_t> generation{1};
  std::string cbtPath;       // where the map survives a clean stop; empty: not kept
  std::atomic<bool> cbtTrusted{false};  // the map covers every write since its generation began
  std::string cbtDistrust;   // why it is not trusted
  // Writes hold it shared for their whole duration; snapshot and generation switches hold it exclusively, so every
  // write lands wholly before or wholly after a cut.
  SwitchLock switchLock;
  Snapshot snapshot;
  fuse_session* session = nullptr;
  bool ioFlusher = false;
  bool memoryLocked = false;
  std::atomic<bool> stopping{false};
  std::atomic<bool> shutdownAnswered{false};
  // Progress for the watchdog: requests taken and answered (ring requests, and /dev/fuse reads and writes).
  std::atomic<uint64_t> requestsStarted{0};
  std::atomic<uint64_t> requestsCompleted{0};
  std::atomic<int> watchdogFd{-1};  // the heartbeat pipe to the watchdog process
  pid_t watchdogPid = -1;  // main waits for it, so the shutdown reply is not cut off by exit
};

Engine& TheEngine();

// origin.cc
int OpenOrigin(Origin& origin, std::string& error);
// Reads/writes whole ranges (EOF reads as zeros); `buffer` must be aligned to 4096 for the O_DIRECT path. 0 or -errno.
int OriginRead(const Origin& origin, char* buffer, size_t length, uint64_t offset);
int OriginWrite(const Origin& origin, const char* buffer, size_t length, uint64_t offset);
int OriginDiscard(const Origin& origin, int mode, uint64_t offset, uint64_t length);
int PreadFull(int fd, char* buffer, size_t length, uint64_t offset);
int PwriteFull(int fd, const char* buffer, size_t length, uint64_t offset);
// Per-thread buffer aligned for O_DIRECT, at least `length` bytes.
char* AlignedScratch(size_t length, int which);

// snapshot.cc
// Everything a snapshot needs before its cut (diff store file and first growth step, cleared maps), done outside the
// switch lock; SnapshotCreate then only switches (it prepares first itself when nothing was prepared).
int SnapshotPrepare(Engine& engine, std::string& error);
int SnapshotCreate(Engine& engine, std::string& error);
void SnapshotDelete(Engine& engine);
// Before a write to [first, last] lands: copy each block not yet preserved into the diff store. Never fails the write.
// Synchronous (it waits for the copy and for blocks other writers are copying); the rings use the steps below.
void PreserveBlocks(Engine& engine, uint64_t first, uint64_t last);
// The blocks one write (at most kMaxIoBytes) claimed for preservation: the span [spanFirst, spanLast] gets
// consecutive diff-store slots from `slot` on; `mine` has bit (b - first) for each block this write claimed.
struct PreserveClaim {
  uint64_t first = 0;
  uint64_t spanFirst = 0;
  uint64_t spanLast = 0;
  uint64_t count = 0;
  uint64_t slot = 0;
  uint64_t mine[3] = {0, 0, 0};  // a write of kMaxIoBytes at a 512-byte offset touches 129 blocks
};
// The blocks a write of [first, last] preserves: its chunks, within the volume (or [first, last] itself when the
// chunks would not fit one claim).
void CowSpan(const Engine& engine, uint64_t first, uint64_t last, uint64_t& spanFirst, uint64_t& spanLast);
// Claims the blocks of CowSpan(first, last) nobody claimed yet; false when it claimed none (or the diff store is full,
// which fails the snapshot).
bool ClaimBlocks(Engine& engine, uint64_t first, uint64_t last, PreserveClaim& claim);
// True when every block of [first, last] is preserved, or the snapshot is no longer active.
bool AllPreserved(Engine& engine, uint64_t first, uint64_t last);
void PublishPreserved(Engine& engine, const PreserveClaim& claim, const char* bytes);
void PreserveFailed(Engine& engine, const PreserveClaim& claim, int rc);
void DiffLanded(Engine& engine, uint64_t slot, int rc, uint64_t spanFirst, uint64_t spanLast);
// Reads the snapshot's view; -EIO when it is not active (failed or gone).
int SnapshotRead(Engine& engine, char* buffer, size_t length, uint64_t offset);
uint64_t DiffStoreBytes(const Engine& engine);
std::string SnapshotFailure(Engine& engine);
uint64_t FailedAtMs(Engine& engine);

int DiffWriteSync(Engine& engine, const char* blocks, uint64_t length, uint64_t offset);

// async_io.cc: backing I/O through io_uring, answered from a completion thread; buffers come from a bounded pool.
int StartAsyncIo(std::string& error);
void StopAsyncIo();  // waits for everything in flight
bool AsyncIoStarted();
// False when io_uring is not running or the request cannot go O_DIRECT: the caller does it synchronously.
bool AsyncUsable(const Origin& origin, uint64_t offset, size_t length);
void AsyncOriginRead(fuse_req_t req, size_t length, uint64_t offset);
// Waits while the pool's in-flight budget is spent (back-pressure); nullptr only when memory is exhausted.
char* TakeIoBuffer(size_t length, size_t& cls);
void GiveIoBuffer(char* buffer, size_t cls);
char* TryTakeIoBuffer(size_t length, size_t& cls);  // nullptr instead of waiting
// Takes over `buffer` and a shared hold of switchLock, released once the write has landed; answers `req`.
void AsyncOriginWrite(fuse_req_t req, char* buffer, size_t cls, size_t length, uint64_t offset);
// Takes over `buffer`; `finished` runs in the completion thread with 0 or -errno.
void AsyncDiffWrite(int fd, char* buffer, size_t cls, size_t length, uint64_t offset, std::function<void(int)> finished);

// cbt_file.cc
void LoadChangedBlocks(Engine& engine);
void SaveChangedBlocks(Engine& engine);
void MarkChangedBlocksDirty(Engine& engine);

// fuse_ops.cc
const fuse_lowlevel_ops& FuseOps();
// Before a write, discard or write-zeroes lands: preserve for the snapshot, mark the changed-block map. Call with
// switchLock held shared.
void PreserveAndMark(Engine& engine, uint64_t offset, uint64_t length);
// Discard / write-zeroes / plain allocation on the volume; 0 or a positive errno. `cutHeld`: the caller holds
// switchLock shared already.
int VolumeFallocate(int mode, int64_t offset, int64_t length, bool cutHeld);

// watchdog.cc: a child process that aborts the FUSE connection when the engine makes no progress for `seconds`.
int StartWatchdog(Engine& engine, unsigned seconds, std::string& error);
void StopWatchdog(Engine& engine);

// ring.cc: FUSE over io_uring
void EnableKernelRings();
int PrepareRings(fuse_session* session, size_t payloadSize);
unsigned ActiveRingQueues();
void StopRings();

// control.cc
int StartControl(Engine& engine, std::string& error);
void Log(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace hotcore
