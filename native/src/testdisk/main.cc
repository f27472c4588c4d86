// testdisk: serves a backing file as DIR/disk through FUSE, keeping writes in memory until they are flushed, so a test
// can cut the power and see exactly what a real disk would have kept. Usage (docs/testing.md):
//   testdisk --backing FILE --mount DIR [--cut-after-writes N] [--cut-persist none|random] [--seed N]
//            [--fail-reads LBA+COUNT[,...]] [--max-write BYTES]
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "testdisk.h"

namespace testdisk {

Disk& TheDisk() {
  static Disk disk;
  return disk;
}

}  // namespace testdisk

using namespace testdisk;

static int Usage(const char* why) {
  fprintf(stderr,
          "testdisk: %s\nusage: testdisk --backing FILE --mount DIR [--cut-after-writes N] [--cut-persist none|random] "
          "[--seed N] [--fail-reads LBA+COUNT[,...]] [--max-write BYTES]\n",
          why);
  return 2;
}

int main(int argc, char** argv) {
  Disk& disk = TheDisk();
  std::string mountDir;
  for (int i = 1; i < argc; i++) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage(("missing value after " + flag).c_str());
    std::string value = argv[++i];
    if (flag == "--backing") disk.backingPath = value;
    else if (flag == "--mount") mountDir = value;
    else if (flag == "--cut-after-writes") disk.cutAtWrite = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--seed") disk.random.seed(std::strtoull(value.c_str(), nullptr, 10));
    else if (flag == "--max-write") disk.maxWriteBytes = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--cut-persist" && (value == "none" || value == "random")) disk.persist = value == "none" ? CutPersist::kNone : CutPersist::kRandom;
    else if (flag == "--fail-reads") {
      if (!ParseRanges(value, disk.failReads)) return Usage(("bad --fail-reads '" + value + "'").c_str());
    } else return Usage(("unknown option " + flag + " " + value).c_str());
  }
  if (disk.backingPath.empty() || mountDir.empty()) return Usage("--backing and --mount are required");
  if (disk.maxWriteBytes < 4096 || disk.maxWriteBytes > (1u << 20)) return Usage("--max-write must be between 4096 and 1048576");
  signal(SIGHUP, SIG_IGN);
  disk.backingFd = open(disk.backingPath.c_str(), O_RDWR | O_CLOEXEC);
  struct stat st;
  if (disk.backingFd < 0 || fstat(disk.backingFd, &st) != 0) return Log("cannot open '%s': %s", disk.backingPath.c_str(), strerror(errno)), 1;
  disk.sizeBytes = static_cast<uint64_t>(st.st_size);

  std::string options = "default_permissions,fsname=testdisk:" + disk.backingPath + ",subtype=testdisk";
  const char* fuseArgv[] = {"testdisk", "-o", options.c_str()};
  fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(fuseArgv));
  disk.session = fuse_session_new(&args, &FuseOps(), sizeof(FuseOps()), &disk);
  if (disk.session == nullptr) return Log("fuse_session_new failed"), 1;
  if (fuse_set_signal_handlers(disk.session) != 0) return Log("cannot install signal handlers"), 1;
  if (fuse_session_mount(disk.session, mountDir.c_str()) != 0) return Log("cannot mount '%s'", mountDir.c_str()), 1;
  Log("serving '%s' (%llu bytes) at '%s/disk'", disk.backingPath.c_str(), static_cast<unsigned long long>(disk.sizeBytes), mountDir.c_str());
  int rc = fuse_session_loop(disk.session);
  // A stop without a cut (SIGTERM, unmount) is a power-off too: what was not flushed is gone.
  {
    std::lock_guard<std::mutex> lock(disk.mutex);
    if (!disk.cut && !disk.overlay.empty()) Log("stopped with %zu unflushed blocks; dropped", disk.overlay.size());
    disk.overlay.clear();
  }
  fuse_session_unmount(disk.session);
  fuse_remove_signal_handlers(disk.session);
  fuse_session_destroy(disk.session);
  close(disk.backingFd);
  Log("stopped (loop returned %d, %llu writes, %llu flushes%s)", rc, static_cast<unsigned long long>(disk.writes),
      static_cast<unsigned long long>(disk.flushes), disk.cut ? ", power cut" : "");
  return 0;
}
