#include "models/common/flow_model.h"

#include <stdexcept>

namespace animerun::models {

void FlowInferenceOptions::Check() const {
  // 1000 is far beyond any useful number (the papers use 12..32) and catches typos.
  if (iters < 1 || iters > 1000)
    throw std::invalid_argument("iters must be in [1, 1000], got " + std::to_string(iters));
  if (padding != "sintel" && padding != "kitti")
    throw std::invalid_argument("padding must be 'sintel' or 'kitti', got '" + padding + "'");
  if (precision != "fp32" && precision != "bf16")
    throw std::invalid_argument("precision must be 'fp32' or 'bf16', got '" + precision + "'");
  if (flow_init.defined()) {
    if (flow_init.dim() != 4 || flow_init.size(1) != 2)
      throw std::invalid_argument("flow_init must be [B, 2, H/8, W/8], got " + c10::str(flow_init.sizes()));
    if (!flow_init.is_floating_point())
      throw std::invalid_argument("flow_init must be a floating-point tensor");
  }
}

}  // namespace animerun::models
