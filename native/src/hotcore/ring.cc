// FUSE over io_uring (kernel 6.14+, CONFIG_FUSE_IO_URING with /sys/module/fuse/parameters/enable_uring on): requests
// arrive in buffers registered with the kernel, one io_uring per CPU queue, and each queue's thread does everything for
// its requests in that one ring: it takes a request, submits the origin I/O straight from (writes) or into (reads) the
// request's page-aligned payload, reaps the completion and commits the answer, which also fetches the next request.
// No request crosses a thread and no byte is copied in user space; a turn of the loop is one io_uring_enter.
//
// libfuse still mounts, answers FUSE_INIT (whose reply gains FUSE_OVER_IO_URING here, in the custom writev), serves
// /dev/fuse until the rings are registered, and keeps serving what never goes through a ring (forgets, interrupts).
// Metadata requests that come through a ring go to libfuse's own handlers, their answers captured into the ring buffer.
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <thread>
#include <vector>

#include "engine.h"

namespace hotcore {

namespace {

constexpr uint32_t kCmdRegister = 1;
constexpr uint32_t kCmdCommitAndFetch = 2;
constexpr uint64_t kFuseOverIoUring = 1ull << 41;
constexpr unsigned kQueueDepth = 32;

// The kernel's ABI for the ring (include/uapi/linux/fuse.h, protocol 7.42); Debian's headers predate it.
struct UringCmdReq {
  uint64_t flags;
  uint64_t commitId;
  uint16_t qid;
  uint8_t padding[6];
};
struct UringEntInOut {
  uint64_t flags;
  uint64_t commitId;
  uint32_t payloadSize;
  uint32_t padding;
  uint64_t reserved;
};
struct UringReqHeader {
  char inOut[128];  // fuse_in_header in, fuse_out_header out
  char opIn[128];   // the opcode's own header (its first argument)
  UringEntInOut entInOut;
};

enum Tag : uintptr_t { kTagFuse = 0, kTagOrigin = 1, kTagStop = 2, kTagDiff = 3, kTagWake = 4 };
constexpr uintptr_t kTagMask = 7;

// Where a write stands while a snapshot is active.
enum Stage : int { kFresh = 0, kOldRead = 1, kWaitOthers = 2, kLanding = 3, kFsyncDirect = 10, kFsyncBuffered = 11 };

// Old bytes on their way from the memory queue to the diff store.
struct DiffOp {
  char* buffer;
  size_t cls;
  size_t length;
  uint64_t slot;
  uint64_t spanFirst;
  uint64_t spanLast;
};

struct Queue;

struct Entry {
  Queue* queue = nullptr;
  UringReqHeader* header = nullptr;
  char* payload = nullptr;
  iovec iov[2];
  uint64_t commitId = 0;
  uint32_t lastCmd = kCmdRegister;
  bool live = true;
  // The request being served.
  uint32_t opcode = 0;
  uint64_t unique = 0;
  size_t length = 0;
  size_t done = 0;
  uint64_t offset = 0;
  int fd = -1;
  int stage = 0;
  bool holdsCut = false;
  int result = 0;  // a snapshot read done by the reader thread
  PreserveClaim claim;
  char* oldBytes = nullptr;
  size_t oldClass = 0;
};

struct Queue {
  int qid = 0;
  io_uring ring;
  bool ringReady = false;
  int stopFd = -1;
  std::vector<Entry> entries;
  std::deque<Entry*> deferred;  // writes waiting for a cut to end, for pool memory, or for other writers' copies
  int wakeFd = -1;              // the snapshot reader thread's answers are ready
  std::mutex doneMutex;
  std::vector<Entry*> doneReads;
  unsigned live = 0;
  unsigned ioInFlight = 0;  // origin and diff-store operations the ring still has to reap
  bool stopping = false;
  std::thread thread;
};

struct RingState {
  int fuseFd = -1;
  size_t payloadSize = 0;
  std::vector<Queue*> queues;
  std::atomic<bool> kernelOffered{false};
  std::atomic<bool> accepted{false};
  std::atomic<uint64_t> initUnique{0};
  std::mutex mutex;
  std::condition_variable cv;
  bool initReplied = false;
  bool stop = false;
  std::thread starter;
  std::atomic<unsigned> activeQueues{0};
};

RingState& State() {
  static RingState state;
  return state;
}

// Set while a ring thread hands a request to libfuse: the custom writev puts the answer into this entry.
thread_local Entry* tCapture = nullptr;
thread_local int tCapturedError = 0;
thread_local size_t tCapturedBytes = 0;
thread_local bool tCaptured = false;

io_uring_sqe* GetSqe(Queue& q) {
  io_uring_sqe* sqe;
  while ((sqe = io_uring_get_sqe(&q.ring)) == nullptr) io_uring_submit(&q.ring);
  return sqe;
}

void* Tagged(void* pointer, Tag tag) { return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(pointer) | tag); }

// Snapshot reads may wait for a write's copy (which only a ring thread can complete), so they run on their own thread
// and come back through the queue's eventfd.
class SnapshotReader {
 public:
  void Post(Entry* e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!thread_.joinable()) thread_ = std::thread([this] { Work(); });
    jobs_.push_back(e);
    cv_.notify_one();
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Work() {
    for (;;) {
      Entry* e;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        e = jobs_.front();
        jobs_.pop_front();
      }
      e->result = SnapshotRead(TheEngine(), e->payload, e->length, e->offset);
      Queue& q = *e->queue;
      {
        std::lock_guard<std::mutex> lock(q.doneMutex);
        q.doneReads.push_back(e);
      }
      uint64_t one = 1;
      if (write(q.wakeFd, &one, sizeof(one)) != sizeof(one)) Log("ring queue %d: cannot wake", q.qid);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Entry*> jobs_;
  std::thread thread_;
  bool stop_ = false;
};

SnapshotReader& Reader() {
  static SnapshotReader reader;
  return reader;
}

void ArmWake(Queue& q) {
  io_uring_sqe* sqe = GetSqe(q);
  io_uring_prep_poll_add(sqe, q.wakeFd, POLLIN);
  io_uring_sqe_set_data(sqe, Tagged(&q, kTagWake));
}

void PrepCommand(Queue& q, Entry& e, uint32_t cmd) {
  io_uring_sqe* sqe = GetSqe(q);
  std::memset(sqe, 0, 2 * sizeof(io_uring_sqe));  // SQE128: the command area runs into the second half
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->fd = State().fuseFd;
  sqe->cmd_op = cmd;
  if (cmd == kCmdRegister) {
    sqe->addr = reinterpret_cast<uint64_t>(e.iov);
    sqe->len = 2;
  }
  UringCmdReq* req = reinterpret_cast<UringCmdReq*>(sqe->cmd);
  req->qid = static_cast<uint16_t>(q.qid);
  req->commitId = cmd == kCmdRegister ? 0 : e.commitId;
  io_uring_sqe_set_data(sqe, Tagged(&e, kTagFuse));
  e.lastCmd = cmd;
}

// Answers the entry's request (error: 0 or -errno) with `bytes` of payload, and asks for the next one.
void Reply(Entry& e, int error, size_t bytes) {
  TheEngine().requestsCompleted.fetch_add(1, std::memory_order_relaxed);
  fuse_out_header* out = reinterpret_cast<fuse_out_header*>(e.header->inOut);
  out->len = static_cast<uint32_t>(sizeof(fuse_out_header) + (error == 0 ? bytes : 0));
  out->error = error;
  out->unique = e.unique;
  e.header->entInOut.payloadSize = static_cast<uint32_t>(error == 0 ? bytes : 0);
  PrepCommand(*e.queue, e, kCmdCommitAndFetch);
}

size_t OldLength(const Entry& e) { return static_cast<size_t>((e.claim.spanLast - e.claim.spanFirst + 1) * kBlockSize); }

void SubmitOrigin(Entry& e) {
  Queue& q = *e.queue;
  io_uring_sqe* sqe = GetSqe(q);
  size_t left = e.length - e.done;
  if (e.stage == kOldRead) {
    left = OldLength(e) - e.done;
    io_uring_prep_read(sqe, e.fd, e.oldBytes + e.done, static_cast<unsigned>(left), e.claim.spanFirst * kBlockSize + e.done);
  }
  else if (e.opcode == FUSE_READ) io_uring_prep_read(sqe, e.fd, e.payload + e.done, static_cast<unsigned>(left), e.offset + e.done);
  else if (e.opcode == FUSE_WRITE) io_uring_prep_write(sqe, e.fd, e.payload + e.done, static_cast<unsigned>(left), e.offset + e.done);
  else io_uring_prep_fsync(sqe, e.fd, IORING_FSYNC_DATASYNC);
  io_uring_sqe_set_data(sqe, Tagged(&e, kTagOrigin));
  q.ioInFlight++;
}

// Metadata requests: libfuse's handlers (the same ones /dev/fuse requests reach), the answer captured by IoWritev.
void ToLibfuse(Entry& e) {
  const fuse_in_header* in = reinterpret_cast<const fuse_in_header*>(e.header->inOut);
  size_t payload = e.header->entInOut.payloadSize;
  size_t total = in->len;
  if (total < sizeof(fuse_in_header) + payload || total - sizeof(fuse_in_header) - payload > sizeof(e.header->opIn)) {
    Log("ring: request %u of %zu bytes does not fit its %zu-byte payload", in->opcode, total, payload);
    return Reply(e, -EIO, 0);
  }
  size_t opInBytes = total - sizeof(fuse_in_header) - payload;
  thread_local std::vector<char> message;
  message.resize(total);
  std::memcpy(message.data(), in, sizeof(fuse_in_header));
  std::memcpy(message.data() + sizeof(fuse_in_header), e.header->opIn, opInBytes);
  std::memcpy(message.data() + sizeof(fuse_in_header) + opInBytes, e.payload, payload);
  fuse_buf buf;
  std::memset(&buf, 0, sizeof(buf));
  buf.mem = message.data();
  buf.size = total;
  tCapture = &e;
  tCaptured = false;
  fuse_session_process_buf(TheEngine().session, &buf);
  tCapture = nullptr;
  if (!tCaptured) return Reply(e, -ENOSYS, 0);
  Reply(e, tCapturedError, tCapturedBytes);
}

// A write takes its share of the cut without waiting (the ring thread must keep reaping, or a cut waiting for this
// queue's writes to land would wait forever): false when a cut is under way, and the entry waits in `deferred`.
bool EnterCut(Entry& e) {
  if (!TheEngine().switchLock.try_lock_shared()) return false;
  e.holdsCut = true;
  return true;
}

void LeaveCut(Entry& e) {
  if (!e.holdsCut) return;
  e.holdsCut = false;
  TheEngine().switchLock.unlock_shared();
}

int OriginFd(const Origin& origin) { return origin.directFd >= 0 ? origin.directFd : origin.bufferedFd; }

bool SnapshotActive() { return TheEngine().snapshot.state.load(std::memory_order_acquire) == static_cast<int>(SnapshotState::kActive); }

void Land(Entry& e) {
  Engine& engine = TheEngine();
  e.stage = kLanding;
  e.done = 0;
  if (AsyncUsable(engine.origin, e.offset, e.length)) {
    e.fd = OriginFd(engine.origin);
    return SubmitOrigin(e);
  }
  int rc = OriginWrite(engine.origin, e.payload, e.length, e.offset);
  LeaveCut(e);
  if (rc != 0) return Reply(e, rc, 0);
  fuse_write_out* out = reinterpret_cast<fuse_write_out*>(e.payload);
  std::memset(out, 0, sizeof(*out));
  out->size = static_cast<uint32_t>(e.length);
  Reply(e, 0, sizeof(*out));
}

uint64_t FirstBlock(const Entry& e) { return e.offset / kBlockSize; }
uint64_t LastBlock(const Entry& e) { return (e.offset + e.length - 1) / kBlockSize; }

// A write: its share of the cut, the changed-block map, then (with a snapshot) the copy of blocks not yet preserved —
// read asynchronously into pool memory, published, queued for the diff store — and only then the origin. Whatever has
// to wait (a cut, pool memory, another writer's copy) waits in `deferred`, never in the thread.
void ServeWrite(Entry& e) {
  Engine& engine = TheEngine();
  if (e.stage == kWaitOthers) {
    if (!AllPreserved(engine, FirstBlock(e), LastBlock(e))) return e.queue->deferred.push_back(&e);
    return Land(e);
  }
  if (!e.holdsCut && !EnterCut(e)) return e.queue->deferred.push_back(&e);
  engine.changed->SetRange(FirstBlock(e), LastBlock(e));
  if (!SnapshotActive()) return Land(e);
  if (AllPreserved(engine, FirstBlock(e), LastBlock(e))) return Land(e);
  // Pool memory first (claims cannot be taken back), as much as the whole write's chunks could need.
  if (e.oldBytes == nullptr) {
    uint64_t spanFirst, spanLast;
    CowSpan(engine, FirstBlock(e), LastBlock(e), spanFirst, spanLast);
    e.oldBytes = TryTakeIoBuffer((spanLast - spanFirst + 1) * kBlockSize, e.oldClass);
    if (e.oldBytes == nullptr) return e.queue->deferred.push_back(&e);
  }
  if (!ClaimBlocks(engine, FirstBlock(e), LastBlock(e), e.claim)) {
    GiveIoBuffer(e.oldBytes, e.oldClass);
    e.oldBytes = nullptr;
    e.stage = kWaitOthers;  // others are copying what is left, or the snapshot just failed
    return ServeWrite(e);
  }
  e.stage = kOldRead;
  e.done = 0;
  e.fd = OriginFd(engine.origin);
  SubmitOrigin(e);
}

// The old bytes of the claimed span are in pool memory: publish them, queue them for the diff store (same ring), and
// land the write once every block it touches is preserved.
void OldReadDone(Entry& e, int rc) {
  Engine& engine = TheEngine();
  if (rc != 0) {
    PreserveFailed(engine, e.claim, rc);
    GiveIoBuffer(e.oldBytes, e.oldClass);
  } else {
    PublishPreserved(engine, e.claim, e.oldBytes);
    Snapshot& s = engine.snapshot;
    DiffOp* op = new DiffOp{e.oldBytes, e.oldClass, OldLength(e), e.claim.slot, e.claim.spanFirst, e.claim.spanLast};
    io_uring_sqe* sqe = GetSqe(*e.queue);
    io_uring_prep_write(sqe, s.diffDirectFd >= 0 ? s.diffDirectFd : s.diffBufferedFd, op->buffer, static_cast<unsigned>(op->length), op->slot * kBlockSize);
    io_uring_sqe_set_data(sqe, Tagged(op, kTagDiff));
    e.queue->ioInFlight++;
  }
  e.oldBytes = nullptr;
  e.stage = kWaitOthers;
  ServeWrite(e);
}

void DiffDone(DiffOp* op, int res) {
  Engine& engine = TheEngine();
  int rc = res < 0 ? res : (static_cast<size_t>(res) == op->length ? 0 : -EIO);
  if (rc == -EINVAL || rc == -EIO) rc = DiffWriteSync(engine, op->buffer, op->length, op->slot * kBlockSize);  // O_DIRECT refused, or short
  DiffLanded(engine, op->slot, rc, op->spanFirst, op->spanLast);
  GiveIoBuffer(op->buffer, op->cls);
  delete op;
}

void ServeFallocate(Entry& e) {
  const fuse_fallocate_in* in = reinterpret_cast<const fuse_fallocate_in*>(e.header->opIn);
  if (!EnterCut(e)) return e.queue->deferred.push_back(&e);
  int rc = VolumeFallocate(static_cast<int>(in->mode), static_cast<int64_t>(in->offset), static_cast<int64_t>(in->length), true);
  LeaveCut(e);
  Reply(e, -rc, 0);
}

void Serve(Entry& e) {
  const fuse_in_header* in = reinterpret_cast<const fuse_in_header*>(e.header->inOut);
  Engine& engine = TheEngine();
  engine.requestsStarted.fetch_add(1, std::memory_order_relaxed);
  e.opcode = in->opcode;
  e.unique = in->unique;
  e.done = 0;
  e.stage = kFresh;
  uint64_t total = engine.origin.sizeBytes;
  bool volume = in->nodeid == kVolumeInode;
  switch (in->opcode) {
    case FUSE_WRITE: {
      const fuse_write_in* w = reinterpret_cast<const fuse_write_in*>(e.header->opIn);
      if (!volume) return Reply(e, in->nodeid == kSnapshotInode ? -EROFS : -ENOENT, 0);
      if (w->offset >= total) return Reply(e, w->size == 0 ? 0 : -ENOSPC, 0);
      e.offset = w->offset;
      e.length = static_cast<size_t>(std::min<uint64_t>(w->size, total - w->offset));
      if (e.length == 0) return Reply(e, 0, 0);
      return ServeWrite(e);
    }
    case FUSE_READ: {
      const fuse_read_in* r = reinterpret_cast<const fuse_read_in*>(e.header->opIn);
      if (!volume && in->nodeid != kSnapshotInode) return Reply(e, -ENOENT, 0);
      if (r->offset >= total || r->size == 0) return Reply(e, 0, 0);
      e.offset = r->offset;
      e.length = static_cast<size_t>(std::min<uint64_t>({r->size, total - r->offset, State().payloadSize}));
      if (volume && AsyncUsable(engine.origin, e.offset, e.length)) {
        e.fd = engine.origin.directFd >= 0 ? engine.origin.directFd : engine.origin.bufferedFd;
        return SubmitOrigin(e);
      }
      if (!volume) return Reader().Post(&e);
      return Reply(e, OriginRead(engine.origin, e.payload, e.length, e.offset), e.length);
    }
    case FUSE_FSYNC:
      if (!volume) return Reply(e, 0, 0);
      e.stage = kFsyncDirect;
      e.fd = engine.origin.directFd >= 0 ? engine.origin.directFd : engine.origin.bufferedFd;
      return SubmitOrigin(e);
    case FUSE_FALLOCATE:
      if (!volume) return Reply(e, in->nodeid == kSnapshotInode ? -EROFS : -ENOENT, 0);
      return ServeFallocate(e);
    default:
      return ToLibfuse(e);
  }
}

void OriginDone(Entry& e, int res) {
  Queue& q = *e.queue;
  q.ioInFlight--;
  Engine& engine = TheEngine();
  size_t want = e.stage == kOldRead ? OldLength(e) : e.length;
  if (e.opcode != FUSE_FSYNC && res > 0 && e.done + static_cast<size_t>(res) < want) {
    e.done += static_cast<size_t>(res);
    return SubmitOrigin(e);  // a short transfer: the rest goes again
  }
  int rc = res < 0 ? res : 0;
  if (e.stage == kOldRead) {
    if (res == 0) std::memset(e.oldBytes + e.done, 0, want - e.done);  // past EOF
    if (rc == -EINVAL || rc == -EAGAIN || rc == -EOPNOTSUPP) rc = OriginRead(engine.origin, e.oldBytes, want, e.claim.spanFirst * kBlockSize);
    return OldReadDone(e, rc);
  }
  if (e.opcode == FUSE_READ && res == 0) std::memset(e.payload + e.done, 0, e.length - e.done);  // past EOF
  if (e.opcode == FUSE_WRITE && res == 0) rc = -EIO;
  if (rc == -EINVAL || rc == -EAGAIN || rc == -EOPNOTSUPP) {
    if (e.opcode == FUSE_READ) rc = OriginRead(engine.origin, e.payload, e.length, e.offset);
    else if (e.opcode == FUSE_WRITE) rc = OriginWrite(engine.origin, e.payload, e.length, e.offset);
    else rc = fdatasync(e.fd) == 0 ? 0 : -errno;
  }
  switch (e.opcode) {
    case FUSE_READ:
      return Reply(e, rc, e.length);
    case FUSE_WRITE: {
      LeaveCut(e);  // landed: a cut may pass it
      if (rc != 0) return Reply(e, rc, 0);
      fuse_write_out* out = reinterpret_cast<fuse_write_out*>(e.payload);
      std::memset(out, 0, sizeof(*out));
      out->size = static_cast<uint32_t>(e.length);
      return Reply(e, 0, sizeof(*out));
    }
    default:  // FUSE_FSYNC: the O_DIRECT descriptor, then the buffered one (unaligned writes went through it)
      if (rc == 0 && e.stage == kFsyncDirect && engine.origin.directFd >= 0) {
        e.stage = kFsyncBuffered;
        e.fd = engine.origin.bufferedFd;
        return SubmitOrigin(e);
      }
      return Reply(e, rc, 0);
  }
}

void CommandDone(Queue& q, Entry& e, int res) {
  if (res == -EAGAIN || res == -EINTR) return PrepCommand(q, e, e.lastCmd);
  if (res < 0) {
    if (res != -ENOTCONN && res != -ENODEV && res != -ECANCELED) Log("ring queue %d: command failed: %s", q.qid, strerror(-res));
    e.live = false;
    q.live--;
    return;
  }
  e.commitId = e.header->entInOut.commitId;
  Serve(e);
}

// The snapshot reader thread finished some reads of this queue: answer them, and listen again.
void WakeDone(Queue& q) {
  uint64_t count;
  if (read(q.wakeFd, &count, sizeof(count)) < 0 && errno != EAGAIN) Log("ring queue %d: eventfd: %s", q.qid, strerror(errno));
  std::vector<Entry*> done;
  {
    std::lock_guard<std::mutex> lock(q.doneMutex);
    done.swap(q.doneReads);
  }
  for (Entry* e : done) Reply(*e, e->result, e->length);
  ArmWake(q);
}

void RetryDeferred(Queue& q) {
  size_t n = q.deferred.size();
  for (size_t i = 0; i < n; i++) {
    Entry* e = q.deferred.front();
    q.deferred.pop_front();
    if (e->opcode == FUSE_WRITE) ServeWrite(*e);
    else ServeFallocate(*e);
  }
}

void* MapLocal(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// Sets up the queue's ring and registers its entries; false (logged) when the kernel refuses.
bool SetUp(Queue& q) {
  RingState& state = State();
  io_uring_params params;
  std::memset(&params, 0, sizeof(params));
  params.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE;
  params.cq_entries = kQueueDepth * 8;
  int rc = io_uring_queue_init_params(kQueueDepth * 4, &q.ring, &params);
  if (rc < 0) return Log("ring queue %d: io_uring setup failed: %s", q.qid, strerror(-rc)), false;
  q.ringReady = true;
  q.stopFd = eventfd(0, EFD_CLOEXEC);
  q.wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ArmWake(q);
  q.entries.resize(kQueueDepth);
  size_t headerSize = (sizeof(UringReqHeader) + 4095) / 4096 * 4096;
  for (Entry& e : q.entries) {
    e.queue = &q;
    e.header = static_cast<UringReqHeader*>(MapLocal(headerSize));
    e.payload = static_cast<char*>(MapLocal(state.payloadSize));
    if (e.header == nullptr || e.payload == nullptr) return Log("ring queue %d: out of memory", q.qid), false;
    e.iov[0] = {e.header, headerSize};
    e.iov[1] = {e.payload, state.payloadSize};
    PrepCommand(q, e, kCmdRegister);
    q.live++;
  }
  io_uring_sqe* sqe = GetSqe(q);
  io_uring_prep_poll_add(sqe, q.stopFd, POLLIN);
  io_uring_sqe_set_data(sqe, Tagged(&q, kTagStop));
  rc = io_uring_submit(&q.ring);
  if (rc < 0) return Log("ring queue %d: registering failed: %s", q.qid, strerror(-rc)), false;
  return true;
}

void Run(Queue& q) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  CPU_SET(q.qid, &mask);
  sched_setaffinity(0, sizeof(mask), &mask);  // the kernel queues a request on its CPU's queue: stay beside it
  if (!SetUp(q)) return;
  State().activeQueues++;
  while (q.live > 0 && !(q.stopping && q.ioInFlight == 0)) {
    RetryDeferred(q);
    int rc;
    if (q.deferred.empty()) {
      rc = io_uring_submit_and_wait(&q.ring, 1);
    } else {
      io_uring_submit(&q.ring);
      __kernel_timespec wait = {0, 200 * 1000};
      io_uring_cqe* first;
      rc = io_uring_wait_cqe_timeout(&q.ring, &first, &wait);
      if (rc == -ETIME) rc = 0;
    }
    if (rc < 0 && rc != -EINTR) {
      Log("ring queue %d: io_uring_enter failed: %s", q.qid, strerror(-rc));
      break;
    }
    io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&q.ring, head, cqe) {
      seen++;
      uintptr_t data = static_cast<uintptr_t>(cqe->user_data);
      Tag tag = static_cast<Tag>(data & kTagMask);
      void* pointer = reinterpret_cast<void*>(data & ~kTagMask);
      if (tag == kTagStop) q.stopping = true;
      else if (tag == kTagOrigin) OriginDone(*static_cast<Entry*>(pointer), cqe->res);
      else if (tag == kTagDiff) q.ioInFlight--, DiffDone(static_cast<DiffOp*>(pointer), cqe->res);
      else if (tag == kTagWake) WakeDone(q);
      else CommandDone(q, *static_cast<Entry*>(pointer), cqe->res);
    }
    io_uring_cq_advance(&q.ring, seen);
  }
  for (Entry& e : q.entries) LeaveCut(e);
  State().activeQueues--;
}

// After FUSE_INIT was answered with FUSE_OVER_IO_URING: one queue (and thread) per possible CPU, as the kernel expects.
void StartQueues() {
  RingState& state = State();
  {
    std::unique_lock<std::mutex> lock(state.mutex);
    state.cv.wait(lock, [&] { return state.initReplied || state.stop; });
    if (state.stop || !state.accepted.load()) return;
  }
  long cpus = sysconf(_SC_NPROCESSORS_CONF);
  for (long qid = 0; qid < cpus; qid++) {
    Queue* q = new Queue;
    q->qid = static_cast<int>(qid);
    state.queues.push_back(q);
    q->thread = std::thread([q] { Run(*q); });
  }
  Log("FUSE over io_uring: %ld queue(s) of %u requests, %zu-byte payloads", cpus, kQueueDepth, state.payloadSize);
}

ssize_t IoRead(int fd, void* buffer, size_t length, void*) {
  ssize_t n = read(fd, buffer, length);
  if (n >= static_cast<ssize_t>(sizeof(fuse_in_header) + sizeof(fuse_init_in))) {
    const fuse_in_header* in = static_cast<const fuse_in_header*>(buffer);
    if (in->opcode == FUSE_INIT) {
      const fuse_init_in* init = reinterpret_cast<const fuse_init_in*>(in + 1);
      uint64_t flags = init->flags | ((init->flags & FUSE_INIT_EXT) ? static_cast<uint64_t>(init->flags2) << 32 : 0);
      State().kernelOffered.store((flags & kFuseOverIoUring) != 0);
      State().initUnique.store(in->unique);
    }
  }
  return n;
}

ssize_t IoWritev(int fd, struct iovec* iov, int count, void*) {
  if (tCapture != nullptr) {
    const fuse_out_header* out = static_cast<const fuse_out_header*>(iov[0].iov_base);
    size_t bytes = 0;
    for (int i = 1; i < count; i++) {
      size_t n = std::min(iov[i].iov_len, State().payloadSize - bytes);
      std::memcpy(tCapture->payload + bytes, iov[i].iov_base, n);
      bytes += n;
    }
    tCaptured = true;
    tCapturedError = out->error;
    tCapturedBytes = bytes;
    return static_cast<ssize_t>(out->len);
  }
  RingState& state = State();
  const fuse_out_header* out = static_cast<const fuse_out_header*>(iov[0].iov_base);
  bool initReply = state.initUnique.load() != 0 && out->unique == state.initUnique.load() && count >= 2 && out->error == 0;
  if (!initReply) return writev(fd, iov, count);
  // FUSE_INIT's answer: ask for the rings when the kernel offered them and libfuse speaks the extended flags.
  fuse_init_out init;
  std::memset(&init, 0, sizeof(init));
  std::memcpy(&init, iov[1].iov_base, std::min(iov[1].iov_len, sizeof(init)));
  bool accept = state.kernelOffered.load() && (init.flags & FUSE_INIT_EXT) && iov[1].iov_len >= sizeof(init);
  if (accept) init.flags2 |= static_cast<uint32_t>(kFuseOverIoUring >> 32);
  iovec patched[2] = {iov[0], {&init, iov[1].iov_len}};
  ssize_t n = writev(fd, patched, 2);
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.accepted.store(accept && n >= 0);
    state.initReplied = true;
  }
  state.cv.notify_all();
  if (!accept) Log("FUSE over io_uring not offered by the kernel; serving /dev/fuse");
  return n;
}

}  // namespace

// Turns the kernel's switch on before the mount (whose FUSE_INIT offers the rings only when it is on). The switch is
// global and off by default, but it only lets a daemon ask for rings: daemons that do not ask are unaffected.
void EnableKernelRings() {
  int fd = open("/sys/module/fuse/parameters/enable_uring", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, "Y", 1) != 1) Log("cannot enable FUSE over io_uring: %s", strerror(errno));
  close(fd);
}

// Hooks libfuse's I/O on the mounted session: FUSE_INIT's answer asks for rings, and the queues start after it.
int PrepareRings(fuse_session* session, size_t payloadSize) {
  RingState& state = State();
  state.fuseFd = fuse_session_fd(session);
  state.payloadSize = payloadSize;
  fuse_custom_io io;
  std::memset(&io, 0, sizeof(io));
  io.read = IoRead;
  io.writev = IoWritev;
  int rc = fuse_session_custom_io(session, &io, state.fuseFd);
  if (rc != 0) return rc;
  state.starter = std::thread(StartQueues);
  return 0;
}

unsigned ActiveRingQueues() { return State().activeQueues.load(); }

// After the FUSE loop ended: every queue drains its origin I/O, then its thread ends.
void StopRings() {
  RingState& state = State();
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.stop = true;
  }
  state.cv.notify_all();
  if (state.starter.joinable()) state.starter.join();
  for (Queue* q : state.queues) {
    uint64_t one = 1;
    if (q->stopFd >= 0 && write(q->stopFd, &one, sizeof(one)) != sizeof(one)) Log("ring queue %d: cannot signal stop", q->qid);
    if (q->thread.joinable()) q->thread.join();
    if (q->ringReady) io_uring_queue_exit(&q->ring);
  }
  Reader().Stop();
}

}  // namespace hotcore
