// Shared by the two checkpoint targets: load from memory and touch every tensor's data
// (through its strides, so that ASan sees any view reaching outside its storage).
#pragma once

#include <torch/torch.h>

#include "fuzz/fuzz_target.h"
#include "models/common/checkpoint.h"

namespace animerun::fuzz {

inline void FuzzCheckpoint(const uint8_t* data, size_t size, const char* origin) {
  models::StateDict sd;
  if (!Accepts(origin, [&] { sd = models::LoadStateDictFromMemory(data, size, origin); })) return;
  Require(sd.size() > 0, "a loaded state dict has entries");
  for (const auto& [key, t] : sd.entries) {
    Require(t.defined(), "entry " + key + " is defined");
    if (t.numel() == 0) continue;
    const torch::Tensor c = t.contiguous();  // reads every element through the strides
    volatile uint8_t sink = 0;
    const auto* p = static_cast<const uint8_t*>(c.data_ptr());
    for (size_t k = 0; k < c.nbytes(); k += 61) sink = sink ^ p[k];
    (void)sink;
  }
}

}  // namespace animerun::fuzz
