// torch.save zip checkpoints (models/common/checkpoint.h, zip_archive.h): the whole loader,
// and every entry of an archive read through ZipReader (CRC-checked).
#include "fuzz/targets/checkpoint_common.h"
#include "models/common/zip_archive.h"

ANIMERUN_FUZZ_TARGET(checkpoint_zip) {
  using namespace animerun;
  fuzz::FuzzCheckpoint(data, size, "input.pth");
  std::unique_ptr<models::ZipReader> zip;
  if (!fuzz::Accepts("input.zip", [&] { zip = std::make_unique<models::ZipReader>(data, size, "input.zip"); }, false))
    return 0;
  for (const auto& e : zip->entries())
    fuzz::Accepts("input.zip", [&] {
      const std::string bytes = zip->ReadString(e);
      fuzz::Require(bytes.size() == e.size, "entry size");
    }, false);
  return 0;
}
