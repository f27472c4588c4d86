// Asynchronous backing I/O through one io_uring: a FUSE worker copies a request into a pooled aligned buffer, submits
// it and goes back for the next request at once, so the queue depth the loop device sends survives the hop to the
// origin (a synchronous pwrite held a worker per request, and 4 workers meant 4 writes in flight). One completion
// thread reaps the ring and answers the FUSE requests. Memory in flight is bounded: a submitter waits for room
// (back-pressure), never fails.
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "engine.h"

namespace hotcore {

namespace {

constexpr unsigned kRingEntries = 256;
constexpr uint64_t kInflightBudget = 32ull << 20;  // bytes of buffers handed out at once
constexpr size_t kClasses = 9;                     // 4 KiB .. 1 MiB, powers of two

size_t ClassOf(size_t length) {
  size_t c = 0;
  while ((kBlockSize << c) < length) c++;
  return c;
}

}  // namespace

struct IoOp {
  enum Kind { kOriginRead, kOriginWrite, kDiffWrite } kind;
  fuse_req_t req = nullptr;
  char* buffer = nullptr;
  size_t bufferClass = 0;
  size_t length = 0;   // bytes to transfer
  size_t done = 0;     // bytes transferred so far (short transfers are resubmitted)
  uint64_t offset = 0;
  int fd = -1;
  std::function<void(int)> finished;  // diff writes: called with 0 or -errno once the bytes are in the store
};

class AsyncIo {
 public:
  int Start(std::string& error) {
    int rc = io_uring_queue_init(kRingEntries, &ring_, 0);
    if (rc < 0) {
      error = std::string("io_uring_queue_init: ") + strerror(-rc);
      return rc;
    }
    started_ = true;
    reaper_ = std::thread([this] { Reap(); });
    return 0;
  }

  void Stop() {
    if (!started_) return;
    {
      // Everything in flight completes first (the disk answers even when FUSE is gone); a stuck origin gets 10 s.
      std::unique_lock<std::mutex> lock(poolMutex_);
      if (!poolCv_.wait_for(lock, std::chrono::seconds(10), [&] { return outBytes_ == 0; })) Log("stopping with backing I/O still in flight");
    }
    {
      std::lock_guard<std::mutex> lock(submitMutex_);
      io_uring_sqe* sqe = GetSqe();
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data(sqe, nullptr);
      io_uring_submit(&ring_);
    }
    reaper_.join();
    io_uring_queue_exit(&ring_);
    started_ = false;
  }

  bool started() const { return started_; }

  // An aligned buffer of at least `length` bytes; waits while the in-flight budget is spent (unless nothing is out).
  char* Take(size_t length, size_t& cls) {
    cls = ClassOf(length);
    std::unique_lock<std::mutex> lock(poolMutex_);
    poolCv_.wait(lock, [&] { return Fits(cls); });
    return Grab(lock, cls);
  }

  // As Take, but nullptr instead of waiting when the budget is spent (the rings defer instead).
  char* TryTake(size_t length, size_t& cls) {
    cls = ClassOf(length);
    std::unique_lock<std::mutex> lock(poolMutex_);
    return Fits(cls) ? Grab(lock, cls) : nullptr;
  }

  void Give(char* buffer, size_t cls) {
    size_t size = kBlockSize << cls;
    {
      std::lock_guard<std::mutex> lock(poolMutex_);
      outBytes_ -= size;
      // Keep enough of each class to refill the whole budget with it; free the rest.
      if (buffer != nullptr && free_[cls].size() * size < kInflightBudget) buffer = (free_[cls].push_back(buffer), nullptr);
    }
    free(buffer);
    poolCv_.notify_all();
  }

  void Submit(IoOp* op) {
    std::lock_guard<std::mutex> lock(submitMutex_);
    io_uring_sqe* sqe = GetSqe();
    size_t left = op->length - op->done;
    if (op->kind == IoOp::kOriginRead) io_uring_prep_read(sqe, op->fd, op->buffer + op->done, static_cast<unsigned>(left), op->offset + op->done);
    else io_uring_prep_write(sqe, op->fd, op->buffer + op->done, static_cast<unsigned>(left), op->offset + op->done);
    io_uring_sqe_set_data(sqe, op);
    io_uring_submit(&ring_);
  }

 private:
  // Called with submitMutex_ held; a full submission queue is flushed to the kernel to make room.
  io_uring_sqe* GetSqe() {
    io_uring_sqe* sqe;
    while ((sqe = io_uring_get_sqe(&ring_)) == nullptr) io_uring_submit(&ring_);
    return sqe;
  }

  void Reap() {
    for (;;) {
      io_uring_cqe* cqe;
      int rc = io_uring_wait_cqe(&ring_, &cqe);
      if (rc == -EINTR) continue;
      if (rc < 0) {
        Log("io_uring_wait_cqe: %s", strerror(-rc));
        return;
      }
      IoOp* op = static_cast<IoOp*>(io_uring_cqe_get_data(cqe));
      int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      if (op == nullptr) return;  // Stop's marker
      Complete(op, res);
    }
  }

  void Complete(IoOp* op, int res);

  bool Fits(size_t cls) const { return outBytes_ == 0 || outBytes_ + (kBlockSize << cls) <= kInflightBudget; }

  // Called with poolMutex_ held (and released here): counts the buffer out and reuses a free one of its class.
  char* Grab(std::unique_lock<std::mutex>& lock, size_t cls) {
    outBytes_ += kBlockSize << cls;
    if (!free_[cls].empty()) {
      char* b = free_[cls].back();
      free_[cls].pop_back();
      return b;
    }
    lock.unlock();
    char* b = static_cast<char*>(aligned_alloc(kBlockSize, kBlockSize << cls));
    if (b == nullptr) Give(nullptr, cls);
    return b;
  }

  io_uring ring_;
  bool started_ = false;
  std::thread reaper_;
  std::mutex submitMutex_;
  std::mutex poolMutex_;
  std::condition_variable poolCv_;
  uint64_t outBytes_ = 0;
  std::vector<char*> free_[kClasses];
};

namespace {

AsyncIo& Io() {
  static AsyncIo io;
  return io;
}

// The O_DIRECT descriptor refused the request, or the transfer went wrong in a way worth one synchronous retry.
int SyncFallback(IoOp* op) {
  Engine& engine = TheEngine();
  if (op->kind == IoOp::kOriginRead) return OriginRead(engine.origin, op->buffer, op->length, op->offset);
  if (op->kind == IoOp::kOriginWrite) return OriginWrite(engine.origin, op->buffer, op->length, op->offset);
  return DiffWriteSync(engine, op->buffer, op->length, op->offset);
}

}  // namespace

void AsyncIo::Complete(IoOp* op, int res) {
  if (res > 0 && op->done + static_cast<size_t>(res) < op->length) {
    op->done += static_cast<size_t>(res);
    return Submit(op);  // a short transfer: the rest goes again
  }
  int rc = 0;
  if (res == 0 && op->kind == IoOp::kOriginRead) std::memset(op->buffer + op->done, 0, op->length - op->done);  // past EOF
  else if (res == 0) rc = -EIO;
  else if (res < 0) rc = res;
  if (rc == -EINVAL || rc == -EAGAIN || rc == -EOPNOTSUPP) rc = SyncFallback(op);
  Engine& engine = TheEngine();
  if (op->kind != IoOp::kDiffWrite) engine.requestsCompleted.fetch_add(1, std::memory_order_relaxed);
  switch (op->kind) {
    case IoOp::kOriginRead:
      if (rc == 0) fuse_reply_buf(op->req, op->buffer, op->length);
      else fuse_reply_err(op->req, -rc);
      break;
    case IoOp::kOriginWrite:
      // The write has landed (or failed): a cut may proceed past it.
      engine.switchLock.unlock_shared();
      if (rc == 0) fuse_reply_write(op->req, op->length);
      else fuse_reply_err(op->req, -rc);
      break;
    case IoOp::kDiffWrite:
      op->finished(rc);
      break;
  }
  Give(op->buffer, op->bufferClass);
  delete op;
}

int StartAsyncIo(std::string& error) { return Io().Start(error); }
void StopAsyncIo() { Io().Stop(); }
bool AsyncIoStarted() { return Io().started(); }

bool AsyncUsable(const Origin& origin, uint64_t offset, size_t length) {
  return Io().started() && (origin.directFd < 0 || (offset % origin.directAlign == 0 && length % origin.directAlign == 0));
}

namespace {

IoOp* NewOp(IoOp::Kind kind, char* buffer, size_t cls, size_t length, uint64_t offset, int fd) {
  IoOp* op = new IoOp{kind};
  op->buffer = buffer;
  op->bufferClass = cls;
  op->length = length;
  op->offset = offset;
  op->fd = fd;
  return op;
}

int OriginFd(const Origin& origin) { return origin.directFd >= 0 ? origin.directFd : origin.bufferedFd; }

}  // namespace

void AsyncOriginRead(fuse_req_t req, size_t length, uint64_t offset) {
  Engine& engine = TheEngine();
  engine.requestsStarted.fetch_add(1, std::memory_order_relaxed);
  size_t cls = 0;
  char* buffer = Io().Take(length, cls);
  if (buffer == nullptr) return (void)fuse_reply_err(req, ENOMEM);
  IoOp* op = NewOp(IoOp::kOriginRead, buffer, cls, length, offset, OriginFd(engine.origin));
  op->req = req;
  Io().Submit(op);
}

char* TakeIoBuffer(size_t length, size_t& cls) { return Io().Take(length, cls); }
char* TryTakeIoBuffer(size_t length, size_t& cls) { return Io().TryTake(length, cls); }
void GiveIoBuffer(char* buffer, size_t cls) { Io().Give(buffer, cls); }

void AsyncOriginWrite(fuse_req_t req, char* buffer, size_t cls, size_t length, uint64_t offset) {
  Engine& engine = TheEngine();
  engine.requestsStarted.fetch_add(1, std::memory_order_relaxed);
  IoOp* op = NewOp(IoOp::kOriginWrite, buffer, cls, length, offset, OriginFd(engine.origin));
  op->req = req;
  Io().Submit(op);
}

void AsyncDiffWrite(int fd, char* buffer, size_t cls, size_t length, uint64_t offset, std::function<void(int)> finished) {
  IoOp* op = NewOp(IoOp::kDiffWrite, buffer, cls, length, offset, fd);
  op->finished = std::move(finished);
  Io().Submit(op);
}

}  // namespace hotcore
