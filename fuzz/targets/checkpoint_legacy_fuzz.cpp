// Legacy (pre-1.6) torch checkpoints (models/common/checkpoint.h): magic, protocol, sys
// info, the pickle with its storage views, the key list and the raw storages.
#include "fuzz/targets/checkpoint_common.h"

ANIMERUN_FUZZ_TARGET(checkpoint_legacy) {
  animerun::fuzz::FuzzCheckpoint(data, size, "input.pt");
  return 0;
}
