// The hotcore engine's shared state: the origin it serves, the changed-block map and the copy-before-write snapshot.
// The data path (FUSE requests to origin and diff store) stays in this process; JavaScript only speaks to the control socket.
#pragma once

#include <fuse_lowlevel.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace hotcore {

constexpr uint64_t kBlockSize = 4096;
constexpr size_t kStripeCount = 4096;
constexpr size_t kMaxIoBytes = 1 << 20;

// A fixed-size bitmap whose bits are set and read concurrently from the FUSE worker threads.
class AtomicBitmap {
 public:
  explicit AtomicBitmap(uint64_t bits);
  bool Test(uint64_t bit) const { return (words_[bit >> 6].load(std::memory_order_acquire) >> (bit & 63)) & 1; }
  void Set(uint64_t bit) { words_[bit >> 6].fetch_or(uint64_t{1} << (bit & 63), std::memory_order_acq_rel); }
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

// A reader-writer lock that prefers the writer: glibc's default (and so std::shared_mutex) lets a steady stream of
// shared holders starve an exclusive one, which kept a snapshot switch waiting seconds under fio's QD32.
class SwitchLock {
 public:
  SwitchLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  SwitchLock(const SwitchLock&) = delete;
  SwitchLock& operator=(const SwitchLock&) = delete;
  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
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
  uint64_t id = 0;
  uint64_t createdAtMs = 0;
  uint64_t failedAtMs = 0;  // guarded by failureMutex
  std::string failure;  // "DIFF_STORE_FULL: ..." once failed; guarded by failureMutex
  std::mutex failureMutex;
  std::unique_ptr<AtomicBitmap> preserved;
  std::unique_ptr<uint32_t[]> slotOf;  // block -> diff-store slot; valid once the preserved bit is seen
  std::string diffPath;
  int diffDirectFd = -1;
  int diffBufferedFd = -1;
  std::atomic<uint64_t> nextSlot{0};
  uint64_t slotLimit = 0;
  std::atomic<int> warnedPercent{0};  // the highest of 80, 90, 95 the diff store's use has reached
  std::unique_ptr<std::mutex[]> stripes{new std::mutex[kStripeCount]};
};

struct Engine {
  Origin origin;
  std::string mountDir;
  std::string diffDir;
  std::string controlPath;
  uint64_t diffLimitBytes = 0;  // 0: 90% of the diff dir's free space at snapshot time
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
  std::atomic<bool> shutdownAnswered{false};  // main waits for it, so the shutdown reply is not cut off by exit
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
int SnapshotCreate(Engine& engine, std::string& error);
void SnapshotDelete(Engine& engine);
// Before a write to [first, last] lands: copy each block not yet preserved into the diff store. Never fails the write.
void PreserveBlocks(Engine& engine, uint64_t first, uint64_t last);
// Reads the snapshot's view; -EIO when it is not active (failed or gone).
int SnapshotRead(Engine& engine, char* buffer, size_t length, uint64_t offset);
uint64_t DiffStoreBytes(const Engine& engine);
std::string SnapshotFailure(Engine& engine);
uint64_t FailedAtMs(Engine& engine);

// cbt_file.cc
void LoadChangedBlocks(Engine& engine);
void SaveChangedBlocks(Engine& engine);
void MarkChangedBlocksDirty(Engine& engine);

// fuse_ops.cc
const fuse_lowlevel_ops& FuseOps();

// control.cc
int StartControl(Engine& engine, std::string& error);
void Log(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace hotcore
