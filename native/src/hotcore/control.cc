// The control socket: newline-delimited JSON requests ({"cmd": ...}) answered with one JSON line each, on a thread of
// its own. Snapshot and generation switches take the switch lock exclusively, so they fall between writes.
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "engine.h"

namespace hotcore {

void Log(const char* format, ...) {
  char line[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  fprintf(stderr, "%lld.%03ld hotcore[%d]: %s\n", static_cast<long long>(ts.tv_sec), ts.tv_nsec / 1000000, getpid(), line);
}

namespace {

std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char hex[8];
      snprintf(hex, sizeof(hex), "\\u%04x", c);
      out += hex;
    } else out += c;
  }
  return out + "\"";
}

// The string value of "key" in a flat JSON object (enough for our own requests); empty when absent.
std::string Field(const std::string& json, const std::string& key) {
  size_t at = json.find("\"" + key + "\"");
  if (at == std::string::npos) return "";
  at = json.find(':', at + key.size() + 2);
  if (at == std::string::npos) return "";
  at = json.find('"', at);
  if (at == std::string::npos) return "";
  std::string out;
  for (size_t i = at + 1; i < json.size() && json[i] != '"'; i++) {
    if (json[i] == '\\' && i + 1 < json.size()) i++;
    out += json[i];
  }
  return out;
}

void WriteAll(int fd, const std::string& text) {
  for (size_t done = 0; done < text.size();) {
    ssize_t n = send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string Error(const std::string& coded) {
  size_t colon = coded.find(':');
  std::string code = colon == std::string::npos ? "ENGINE_ERROR" : coded.substr(0, colon);
  std::string message = colon == std::string::npos ? coded : coded.substr(colon + 2);
  return "{\"ok\":false,\"code\":" + Quote(code) + ",\"message\":" + Quote(message) + "}";
}

std::string SnapshotJson(Engine& engine) {
  Snapshot& s = engine.snapshot;
  int state = s.state.load();
  const char* name = state == static_cast<int>(SnapshotState::kActive) ? "active"
                   : state == static_cast<int>(SnapshotState::kFailed) ? "failed" : "none";
  std::string out = "{\"state\":\"" + std::string(name) + "\"";
  if (state != static_cast<int>(SnapshotState::kNone)) {
    std::string failure = SnapshotFailure(engine);
    out += ",\"id\":" + std::to_string(s.id) + ",\"createdAtMs\":" + std::to_string(s.createdAtMs) +
           ",\"diffStoreBytes\":" + std::to_string(DiffStoreBytes(engine)) +
           ",\"diffStoreLimitBytes\":" + std::to_string(s.capacitySlots.load() * kBlockSize) +
           ",\"diffStoreAllocatedBytes\":" + std::to_string(s.allocatedSlots.load() * kBlockSize) +
           ",\"diffStoreReserveBytes\":" + std::to_string(s.reserveBytes) +
           ",\"slotIndexBytes\":" + std::to_string(s.slotOf ? s.slotOf->BytesAllocated() : 0) +
           ",\"diffStoreWarningPercent\":" + (s.warnedPercent.load() ? std::to_string(s.warnedPercent.load()) : "null") +
           ",\"diffStorePath\":" + Quote(s.diffPath);
    if (!failure.empty()) {
      size_t colon = failure.find(':');
      out += ",\"error\":{\"code\":" + Quote(failure.substr(0, colon)) + ",\"message\":" + Quote(failure.substr(colon + 2)) + ",\"atMs\":" + std::to_string(FailedAtMs(engine)) + "}";
    }
  }
  return out + "}";
}

std::string Status(Engine& engine) {
  return "{\"ok\":true,\"pid\":" + std::to_string(getpid()) + ",\"origin\":" + Quote(engine.origin.path) +
         ",\"mountDir\":" + Quote(engine.mountDir) + ",\"sizeBytes\":" + std::to_string(engine.origin.sizeBytes) +
         ",\"blockSize\":" + std::to_string(kBlockSize) + ",\"cowChunkBytes\":" + std::to_string(engine.cowChunkBlocks * kBlockSize) + ",\"directIo\":" + (engine.origin.directFd >= 0 ? "true" : "false") +
         ",\"generation\":" + std::to_string(engine.generation.load()) +
         ",\"changedBlocks\":" + std::to_string(engine.changed->Count()) +
         ",\"changedBlocksTrusted\":" + (engine.cbtTrusted.load() ? "true" : "false") +
         (engine.cbtTrusted.load() ? std::string() : ",\"changedBlocksDistrust\":" + Quote(engine.cbtDistrust)) + ",\"snapshot\":" + SnapshotJson(engine) +
         ",\"diffStoreBytes\":" + std::to_string(DiffStoreBytes(engine)) + ",\"ioFlusher\":" + (engine.ioFlusher ? "true" : "false") +
         ",\"memoryLocked\":" + (engine.memoryLocked ? "true" : "false") +
         ",\"transport\":" + (ActiveRingQueues() > 0 ? "\"io_uring\"" : "\"dev-fuse\"") + ",\"ringQueues\":" + std::to_string(ActiveRingQueues()) + "}";
}

// One generation's changed blocks, taken out of the live map at a cut.
struct TakenGeneration {
  std::vector<uint64_t> words;
  uint64_t generation = 0;
  bool trusted = false;
};

// Call with switchLock held exclusively: no write is in flight, so the next generation's map is complete.
TakenGeneration TakeGeneration(Engine& engine) {
  TakenGeneration taken;
  taken.words = engine.changed->TakeWords();
  taken.generation = engine.generation.fetch_add(1);
  taken.trusted = engine.cbtTrusted.exchange(true);
  return taken;
}

// Writes a taken generation as a bitmap (bit b of byte b/8 = block b, LSB first) to `path`; on failure its bits go
// back into the live map, so nothing is lost, only merged into the next generation. Returns the reply fields.
std::string WriteGeneration(Engine& engine, const TakenGeneration& taken, const std::string& path, std::string& error) {
  MarkChangedBlocksDirty(engine);
  uint64_t count = 0;
  for (uint64_t w : taken.words) count += __builtin_popcountll(w);
  std::string bytes((engine.blocks + 7) / 8, '\0');
  for (uint64_t b = 0; b < engine.blocks; b++) {
    if ((taken.words[b >> 6] >> (b & 63)) & 1) bytes[b >> 3] = static_cast<char>(bytes[b >> 3] | (1 << (b & 7)));
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int rc = fd < 0 ? -errno : PwriteFull(fd, bytes.data(), bytes.size(), 0);
  if (fd >= 0 && rc == 0 && fsync(fd) != 0) rc = -errno;
  if (fd >= 0) close(fd);
  if (rc != 0) {
    for (uint64_t b = 0; b < engine.blocks; b++) if ((taken.words[b >> 6] >> (b & 63)) & 1) engine.changed->Set(b);
    engine.cbtTrusted.store(taken.trusted && engine.cbtTrusted.load());
    error = "IO_ERROR: cannot write the changed-block map to '" + path + "': " + strerror(-rc);
    return "";
  }
  return "\"generation\":" + std::to_string(taken.generation) + ",\"nextGeneration\":" + std::to_string(taken.generation + 1) +
         ",\"changedBlocks\":" + std::to_string(count) + ",\"trusted\":" + (taken.trusted ? "true" : "false") +
         ",\"blocks\":" + std::to_string(engine.blocks) + ",\"blockSize\":" + std::to_string(kBlockSize) + ",\"path\":" + Quote(path);
}

bool AbsolutePath(const std::string& path) { return !path.empty() && path[0] == '/'; }

// Writes the changed-block bitmap to `path` and starts a new generation.
std::string CbtGet(Engine& engine, const std::string& path) {
  if (!AbsolutePath(path)) return Error("INVALID_ARGUMENT: cbt-get needs an absolute \"path\"");
  TakenGeneration taken;
  {
    std::unique_lock<SwitchLock> cut(engine.switchLock);
    taken = TakeGeneration(engine);
  }
  std::string error;
  std::string fields = WriteGeneration(engine, taken, path, error);
  return error.empty() ? "{\"ok\":true," + fields + "}" : Error(error);
}

std::string Handle(Engine& engine, const std::string& request, bool& stop) {
  std::string cmd = Field(request, "cmd");
  if (cmd == "status") return Status(engine);
  Log("control: %s", cmd.c_str());
  if (cmd == "snapshot-create") {
    // With "cbtPath", the changed-block generation turns at the same cut: the map written holds exactly the blocks
    // changed since the previous turn, and the next one starts with this snapshot (for incremental backups).
    std::string cbtPath = Field(request, "cbtPath");
    if (!cbtPath.empty() && !AbsolutePath(cbtPath)) return Error("INVALID_ARGUMENT: \"cbtPath\" must be absolute");
    std::string error;
    int rc;
    TakenGeneration taken;
    {
      std::unique_lock<SwitchLock> cut(engine.switchLock);
      rc = SnapshotCreate(engine, error);
      if (rc == 0 && !cbtPath.empty()) taken = TakeGeneration(engine);
    }
    if (rc != 0) return Error(error);
    std::string reply = "{\"ok\":true,\"snapshot\":" + SnapshotJson(engine);
    if (!cbtPath.empty()) {
      std::string fields = WriteGeneration(engine, taken, cbtPath, error);
      if (!error.empty()) {
        std::unique_lock<SwitchLock> cut(engine.switchLock);
        SnapshotDelete(engine);
        return Error(error);
      }
      reply += ",\"changedBlocks\":{" + fields + "}";
    }
    return reply + "}";
  }
  if (cmd == "snapshot-prepare") {
    // Outside the switch lock: a snapshot-create that follows only switches (a shadow set prepares before its hold).
    std::string error;
    if (SnapshotPrepare(engine, error) != 0) return Error(error);
    return "{\"ok\":true,\"prepared\":true}";
  }
  if (cmd == "snapshot-delete") {
    if (engine.snapshot.state.load() == static_cast<int>(SnapshotState::kNone) && engine.snapshot.prepared) {
      SnapshotDelete(engine);  // a prepared store never cut: dropped
      return "{\"ok\":true}";
    }
    if (engine.snapshot.state.load() == static_cast<int>(SnapshotState::kNone)) return Error("NOT_FOUND: there is no snapshot to delete");
    std::unique_lock<SwitchLock> cut(engine.switchLock);
    SnapshotDelete(engine);
    return "{\"ok\":true}";
  }
  if (cmd == "cbt-get") return CbtGet(engine, Field(request, "path"));
  if (cmd == "shutdown") {
    // Refused while anything (a loop device) holds the FUSE file: detach that first, as the notes' cleanup order says.
    // Set first: the loop ends the moment the unmount succeeds, and main must then wait for this reply.
    engine.stopping.store(true);
    if (umount2(engine.mountDir.c_str(), 0) != 0 && errno != EINVAL) {
      int err = errno;
      engine.stopping.store(false);
      Log("control: cannot unmount yet: %s", strerror(err));
      return Error(std::string(err == EBUSY ? "TARGET_BUSY" : "IO_ERROR") + ": cannot unmount '" + engine.mountDir + "': " + strerror(err));
    }
    stop = true;
    return "{\"ok\":true}";
  }
  return Error("INVALID_ARGUMENT: unknown command " + Quote(cmd) + "; expected status, snapshot-prepare, snapshot-create, snapshot-delete, cbt-get or shutdown");
}

void Serve(Engine& engine, int listener) {
  for (;;) {
    int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      Log("control socket accept failed: %s", strerror(errno));
      return;
    }
    std::string pending;
    char chunk[4096];
    bool stop = false;
    while (!stop) {
      ssize_t n = read(client, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(chunk, static_cast<size_t>(n));
      size_t newline;
      while (!stop && (newline = pending.find('\n')) != std::string::npos) {
        std::string reply = Handle(engine, pending.substr(0, newline), stop) + "\n";
        pending.erase(0, newline + 1);
        WriteAll(client, reply);
      }
    }
    close(client);
    if (stop) engine.shutdownAnswered.store(true);
    if (stop) {
      close(listener);
      unlink(engine.controlPath.c_str());
      // The unmount ended the FUSE connection; wake the loop if it still waits.
      fuse_session_exit(engine.session);
      return;
    }
  }
}

}  // namespace

int StartControl(Engine& engine, std::string& error) {
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address;
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  if (engine.controlPath.size() >= sizeof(address.sun_path)) {
    error = "control socket path '" + engine.controlPath + "' is longer than " + std::to_string(sizeof(address.sun_path) - 1) + " bytes";
    return -ENAMETOOLONG;
  }
  std::strcpy(address.sun_path, engine.controlPath.c_str());
  unlink(engine.controlPath.c_str());
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || listen(listener, 8) != 0) {
    error = "control socket '" + engine.controlPath + "': " + strerror(errno);
    return -errno;
  }
  std::thread([&engine, listener] { Serve(engine, listener); }).detach();
  return 0;
}

}  // namespace hotcore
