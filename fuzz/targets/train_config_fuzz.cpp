// Training config JSON (core/train/train_options.h): LoadTrainConfig on the bytes (through
// an in-memory file, as the reader takes a path), then Check(); an accepted config
// survives ToJson / MergeJson.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "core/train/train_options.h"
#include "fuzz/fuzz_target.h"

namespace {
// One memfd for the whole run: rewritten per input, read through /proc/self/fd.
int MemFile() {
  static const int fd = memfd_create("train_config_fuzz", 0);
  return fd;
}
}  // namespace

ANIMERUN_FUZZ_TARGET(train_config) {
  using namespace animerun;
  const int fd = MemFile();
  fuzz::Require(fd >= 0, "memfd_create works");
  fuzz::Require(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == static_cast<ssize_t>(size), "memfd write");
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  train::TrainOptions o;
  if (!fuzz::Accepts(path, [&] { o = train::LoadTrainConfig(path); })) return 0;
  // Check() names the field, not the file: any animerun::Error is a proper refusal.
  fuzz::Accepts("", [&] { o.Check(); }, false);
  train::TrainOptions again;
  again.MergeJson(o.ToJson(), "again.json");
  fuzz::Require(again.ToJson() == o.ToJson(), "training options round trip");
  return 0;
}
