// The changed-block map across attachments: saved with a clean flag when the engine stops cleanly, marked dirty as
// soon as an engine takes it up again. A map that is dirty (the engine died), missing or for another size is not
// trusted: the engine starts an empty one and says why, so the next backup rereads everything. A generation that
// begins at a cut (cbt-get) while an engine runs is complete, and stays trusted across clean stops.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "engine.h"

namespace hotcore {

namespace {

constexpr char kMagic[8] = {'S', 'D', 'C', 'B', 'T', '1', 0, 0};

struct Header {
  char magic[8];
  uint64_t blocks;
  uint64_t generation;
  uint32_t clean;    // the engine that wrote it stopped cleanly
  uint32_t trusted;  // and its generation's map was complete (it began at a cut this engine saw)
};

int WriteHeader(int fd, const Engine& engine, uint64_t generation, bool clean, bool trusted) {
  Header header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.blocks = engine.blocks;
  header.generation = generation;
  header.clean = clean ? 1 : 0;
  header.trusted = trusted ? 1 : 0;
  int rc = PwriteFull(fd, reinterpret_cast<const char*>(&header), sizeof(header), 0);
  if (rc == 0 && fdatasync(fd) != 0) rc = -errno;
  return rc;
}

}  // namespace

void LoadChangedBlocks(Engine& engine) {
  if (engine.cbtPath.empty()) {
    engine.cbtDistrust = "no map file was given";
    return;
  }
  int fd = open(engine.cbtPath.c_str(), O_RDWR | O_CLOEXEC);
  Header header;
  if (fd < 0) {
    engine.cbtDistrust = errno == ENOENT ? "first attachment: no earlier map" : std::string("cannot open the saved map: ") + strerror(errno);
  } else if (PreadFull(fd, reinterpret_cast<char*>(&header), sizeof(header), 0) != 0 || std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) {
    engine.cbtDistrust = "the saved map is damaged";
  } else if (header.blocks != engine.blocks) {
    engine.cbtDistrust = "the saved map is for a volume of another size";
  } else if (header.clean != 1) {
    engine.cbtDistrust = "the previous engine did not stop cleanly";
    engine.generation.store(header.generation + 1);
  } else if (header.trusted != 1) {
    engine.cbtDistrust = "the saved generation was incomplete already; it becomes complete at the next cbt-get";
    engine.generation.store(header.generation + 1);
  } else {
    std::vector<uint8_t> bytes((engine.blocks + 7) / 8);
    if (PreadFull(fd, reinterpret_cast<char*>(bytes.data()), bytes.size(), sizeof(header)) != 0) {
      engine.cbtDistrust = "the saved map cannot be read";
    } else {
      for (uint64_t b = 0; b < engine.blocks; b++) if (bytes[b >> 3] & (1 << (b & 7))) engine.changed->Set(b);
      engine.generation.store(header.generation);
      engine.cbtTrusted = true;
    }
  }
  if (fd >= 0) close(fd);
  if (!engine.cbtTrusted) Log("changed-block map starts empty and is not trusted: %s", engine.cbtDistrust.c_str());
  MarkChangedBlocksDirty(engine);
}

// Dirty from now until a clean stop: a crash leaves the flag at 0 and the next engine distrusts the map. Also called
// at each new generation, so the generation after a crash is one no engine has handed out.
void MarkChangedBlocksDirty(Engine& engine) {
  if (engine.cbtPath.empty()) return;
  int fd = open(engine.cbtPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  int rc = fd < 0 ? -errno : WriteHeader(fd, engine, engine.generation.load(), false, false);
  if (rc != 0) Log("cannot mark the changed-block map '%s' dirty: %s", engine.cbtPath.c_str(), strerror(-rc));
  if (fd >= 0) close(fd);
}

void SaveChangedBlocks(Engine& engine) {
  if (engine.cbtPath.empty()) return;
  std::vector<uint64_t> words = engine.changed->TakeWords();
  std::vector<uint8_t> bytes((engine.blocks + 7) / 8);
  for (uint64_t b = 0; b < engine.blocks; b++) if ((words[b >> 6] >> (b & 63)) & 1) bytes[b >> 3] |= static_cast<uint8_t>(1 << (b & 7));
  int fd = open(engine.cbtPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  int rc = fd < 0 ? -errno : PwriteFull(fd, reinterpret_cast<const char*>(bytes.data()), bytes.size(), sizeof(Header));
  if (rc == 0 && ftruncate(fd, static_cast<off_t>(sizeof(Header) + bytes.size())) != 0) rc = -errno;
  if (rc == 0 && fdatasync(fd) != 0) rc = -errno;
  // The clean flag goes last, after the bitmap is durable.
  if (rc == 0) rc = WriteHeader(fd, engine, engine.generation.load(), true, engine.cbtTrusted.load());
  if (fd >= 0) close(fd);
  if (rc != 0) Log("cannot save the changed-block map '%s': %s", engine.cbtPath.c_str(), strerror(-rc));
  else Log("changed-block map saved (generation %llu, %s)", static_cast<unsigned long long>(engine.generation.load()),
           engine.cbtTrusted.load() ? "complete" : "incomplete");
}

}  // namespace hotcore
