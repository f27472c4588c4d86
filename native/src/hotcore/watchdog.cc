// The watchdog: a killed engine makes waiting I/O fail at once (the kernel sees /dev/fuse close), but a stalled one
// (stopped by a signal, or its data path stuck) would leave it waiting forever, writers in D state. A child process,
// forked before any thread exists and holding nothing of the engine's but its end of a pipe, expects a heartbeat.
// The engine beats while it makes progress (or has nothing to do); after --watchdog seconds without a beat the child
// aborts the FUSE connection through fusectl and kills the engine, so the I/O fails with EIO as after a kill, and leaves.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "engine.h"

namespace hotcore {

namespace {

uint64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

long ReadCount(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buffer[32];
  ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  if (n <= 0) return -1;
  buffer[n] = 0;
  return strtol(buffer, nullptr, 10);
}

bool AbortConnection(unsigned connection) {
  const char* dir = "/sys/fs/fuse/connections";
  std::string abortPath = std::string(dir) + "/" + std::to_string(connection) + "/abort";
  if (access(abortPath.c_str(), W_OK) != 0) mount("none", dir, "fusectl", 0, nullptr);  // not mounted yet
  int fd = open(abortPath.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, "1", 1) == 1;
  close(fd);
  return ok;
}

// The FUSE connection's number (its device minor) from the mount table: stat() of the mount would wait for the engine.
bool ConnectionOf(const std::string& mountDir, unsigned& connection) {
  std::string escaped;
  for (char c : mountDir) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      char octal[5];
      snprintf(octal, sizeof(octal), "\\%03o", static_cast<unsigned char>(c));
      escaped += octal;
    } else {
      escaped += c;
    }
  }
  FILE* table = fopen("/proc/self/mountinfo", "re");
  if (table == nullptr) return false;
  char* line = nullptr;
  size_t size = 0;
  bool found = false;
  while (!found && getline(&line, &size, table) > 0) {
    unsigned id, parent, major, minorNumber;
    char root[4096], point[4096];
    if (sscanf(line, "%u %u %u:%u %4095s %4095s", &id, &parent, &major, &minorNumber, root, point) == 6 && escaped == point) {
      connection = minorNumber;
      found = true;
    }
  }
  free(line);
  fclose(table);
  return found;
}

[[noreturn]] void Watch(int beats, unsigned connection, unsigned seconds, pid_t engine) {
  uint64_t lastBeat = MonotonicMs();
  for (;;) {
    pollfd p = {beats, POLLIN, 0};
    int n = poll(&p, 1, 500);
    if (n > 0) {
      char buffer[64];
      ssize_t got = read(beats, buffer, sizeof(buffer));
      if (got == 0) _exit(0);  // the engine is gone (its end closed): nothing to watch
      if (got > 0) lastBeat = MonotonicMs();
    }
    if (MonotonicMs() - lastBeat < seconds * 1000ull) continue;
    // The abort ends what waits in the kernel's queues; requests a ring already handed to the engine end only when its
    // rings close, so the stalled engine is killed too (the outcome a dead engine already has: EIO, data as flushed).
    bool aborted = AbortConnection(connection);
    bool killed = kill(engine, SIGKILL) == 0;
    Log("watchdog: engine %d gave no sign of progress for %u s; %s FUSE connection %u and %s it", static_cast<int>(engine), seconds,
        aborted ? "aborted its" : "could not abort its", connection, killed ? "killed" : "could not kill");
    _exit(aborted || killed ? 0 : 1);
  }
}

}  // namespace

// Call after the FUSE mount and before any thread starts (fork copies only the calling thread).
int StartWatchdog(Engine& engine, unsigned seconds, std::string& error) {
  unsigned connection = 0;
  if (!ConnectionOf(engine.mountDir, connection)) {
    error = "watchdog: '" + engine.mountDir + "' is not in the mount table";
    return -ENOENT;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    error = std::string("watchdog: pipe: ") + strerror(errno);
    return -errno;
  }
  pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    error = std::string("watchdog: fork: ") + strerror(errno);
    return -errno;
  }
  if (child == 0) {
    // Keep stdio (the log) and the pipe; the FUSE device and the origin must close with the engine, not live on here.
    int beats = fds[0];
    for (int fd = 3; fd < 1024; fd++) if (fd != beats) close(fd);
    Watch(beats, connection, seconds, parent);
  }
  close(fds[0]);
  engine.watchdogFd = fds[1];
  engine.watchdogPid = child;
  std::string waitingPath = "/sys/fs/fuse/connections/" + std::to_string(connection) + "/waiting";
  std::thread([&engine, seconds, waitingPath] {
    uint64_t lastCompleted = engine.requestsCompleted.load();
    uint64_t lastProgress = MonotonicMs();
    while (!engine.stopping.load()) {
      usleep(250 * 1000);
      uint64_t completed = engine.requestsCompleted.load();
      // Progress: a request finished since the last look, or none is waiting. The kernel's count of waiting requests
      // also sees those no engine thread has taken (a stuck ring thread); without fusectl, the engine's own count.
      long waiting = ReadCount(waitingPath);
      bool idle = waiting >= 0 ? waiting == 0 : engine.requestsStarted.load() == completed;
      if (completed != lastCompleted || idle) {
        lastCompleted = completed;
        lastProgress = MonotonicMs();
      }
      if (MonotonicMs() - lastProgress >= seconds * 1000ull) continue;  // stuck: let the watchdog see silence
      int fd = engine.watchdogFd.load();
      if (fd < 0 || (write(fd, "b", 1) < 0 && errno != EAGAIN)) return;
    }
  }).detach();
  return 0;
}

// A clean stop: the watchdog reads the end of the pipe and leaves.
void StopWatchdog(Engine& engine) {
  int fd = engine.watchdogFd.exchange(-1);
  if (fd >= 0) close(fd);
  if (engine.watchdogPid > 0) waitpid(engine.watchdogPid, nullptr, 0);
}

}  // namespace hotcore
