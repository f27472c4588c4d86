// hotcore: serves a block device or image file as `volume` in a FUSE directory, intercepting every write for the
// changed-block map and copy-before-write snapshots. Started detached by `shadowdisk hot attach`; controlled over a
// Unix socket. Usage: hotcore --origin PATH --mount DIR --diff-dir DIR --control SOCKET [--diff-limit-bytes N]
// [--cbt-file PATH] [--threads N] [--transport auto|dev-fuse] [--watchdog SEC]
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "engine.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

namespace hotcore {

Engine& TheEngine() {
  static Engine engine;
  return engine;
}

}  // namespace hotcore

using namespace hotcore;

static int Usage(const char* why) {
  fprintf(stderr, "hotcore: %s\nusage: hotcore --origin PATH --mount DIR --diff-dir DIR --control SOCKET [--diff-limit-bytes N] [--cow-chunk-kib 4-256] [--cbt-file PATH] [--threads N] [--transport auto|dev-fuse] [--watchdog SEC]\n", why);
  return 2;
}

int main(int argc, char** argv) {
  Engine& engine = TheEngine();
  unsigned threads = 4;
  unsigned watchdogSec = 0;
  bool rings = true;  // FUSE over io_uring where the kernel offers it; --transport dev-fuse keeps to libfuse's threads
  for (int i = 1; i < argc; i++) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage(("missing value after " + flag).c_str());
    std::string value = argv[++i];
    if (flag == "--origin") engine.origin.path = value;
    else if (flag == "--mount") engine.mountDir = value;
    else if (flag == "--diff-dir") engine.diffDir = value;
    else if (flag == "--control") engine.controlPath = value;
    else if (flag == "--diff-limit-bytes") engine.diffLimitBytes = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--cbt-file") engine.cbtPath = value;
    else if (flag == "--cow-chunk-kib") {
      unsigned long kib = std::strtoul(value.c_str(), nullptr, 10);
      if (kib < 4 || kib > 256 || (kib & (kib - 1)) != 0) return Usage("--cow-chunk-kib must be a power of two from 4 to 256");
      engine.cowChunkBlocks = kib * 1024 / kBlockSize;
    }
    else if (flag == "--threads") threads = static_cast<unsigned>(std::strtoul(value.c_str(), nullptr, 10));
    else if (flag == "--watchdog") watchdogSec = static_cast<unsigned>(std::strtoul(value.c_str(), nullptr, 10));
    else if (flag == "--transport" && (value == "auto" || value == "dev-fuse")) rings = value == "auto";
    else return Usage(("unknown option " + flag).c_str());
  }
  if (engine.origin.path.empty() || engine.mountDir.empty() || engine.diffDir.empty() || engine.controlPath.empty()) {
    return Usage("--origin, --mount, --diff-dir and --control are required");
  }
  // A stopped engine whose process group is orphaned gets SIGHUP; libfuse's handler would exit and unmount lazily.
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  // The engine must not wait on writeback that only it can complete.
  if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) == 0) engine.ioFlusher = true;
  else Log("prctl(PR_SET_IO_FLUSHER) refused (%s); continuing without it", strerror(errno));
  if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0) engine.memoryLocked = true;
  else Log("mlockall refused (%s); continuing with pageable memory", strerror(errno));

  std::string error;
  if (OpenOrigin(engine.origin, error) != 0) return Log("cannot open the origin: %s", error.c_str()), 1;
  engine.blocks = (engine.origin.sizeBytes + kBlockSize - 1) / kBlockSize;
  if (engine.blocks == 0) return Log("the origin '%s' is empty", engine.origin.path.c_str()), 1;
  engine.changed.reset(new AtomicBitmap(engine.blocks));
  LoadChangedBlocks(engine);

  std::string options = "default_permissions,fsname=hotcore:" + engine.origin.path + ",subtype=hotcore";
  const char* fuseArgv[] = {"hotcore", "-o", options.c_str()};
  fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(fuseArgv));
  engine.session = fuse_session_new(&args, &FuseOps(), sizeof(FuseOps()), &engine);
  if (engine.session == nullptr) return Log("fuse_session_new failed"), 1;
  if (fuse_set_signal_handlers(engine.session) != 0) return Log("cannot install signal handlers"), 1;
  if (rings) EnableKernelRings();
  if (fuse_session_mount(engine.session, engine.mountDir.c_str()) != 0) {
    return Log("cannot mount the FUSE directory '%s' (is /dev/fuse there?)", engine.mountDir.c_str()), 1;
  }
  // Before any thread exists: the watchdog is a forked process.
  if (watchdogSec > 0 && StartWatchdog(engine, watchdogSec, error) != 0) Log("%s; running without a watchdog", error.c_str());
  if (rings && PrepareRings(engine.session, kMaxIoBytes) != 0) Log("cannot hook libfuse's I/O; serving /dev/fuse only");
  if (StartControl(engine, error) != 0) {
    fuse_session_unmount(engine.session);
    return Log("%s", error.c_str()), 1;
  }
  Log("serving '%s' (%llu bytes, %s) at '%s/volume', control '%s'", engine.origin.path.c_str(),
      static_cast<unsigned long long>(engine.origin.sizeBytes), engine.origin.directFd >= 0 ? "O_DIRECT" : "buffered",
      engine.mountDir.c_str(), engine.controlPath.c_str());

  if (StartAsyncIo(error) != 0) Log("io_uring unavailable (%s); backing I/O stays synchronous", error.c_str());

  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_clone_fd(config, 1);
  fuse_loop_cfg_set_max_threads(config, threads);
  fuse_loop_cfg_set_idle_threads(config, threads);
  int rc = fuse_session_loop_mt(engine.session, config);
  fuse_loop_cfg_destroy(config);
  StopRings();
  StopWatchdog(engine);
  StopAsyncIo();  // answers (or fails, once unmounted) every request still in flight before the session goes
  if (!engine.stopping.load()) fuse_session_unmount(engine.session);
  fuse_remove_signal_handlers(engine.session);
  fuse_session_destroy(engine.session);
  // No request can arrive any more: this map is complete.
  SaveChangedBlocks(engine);
  {
    std::unique_lock<SwitchLock> cut(engine.switchLock);
    SnapshotDelete(engine);
  }
  if (!engine.stopping.load()) unlink(engine.controlPath.c_str());
  for (int waited = 0; engine.stopping.load() && !engine.shutdownAnswered.load() && waited < 200; waited++) usleep(10000);
  Log("stopped (loop returned %d)", rc);
  return 0;
}
