#include "models/common/flow_model.h"

#include "models/common/corr_on_demand.h"

#include <stdexcept>
#include <unordered_set>

namespace animerun::models {

void FlowInferenceOptions::Check() const {
  // 1000 is far beyond any useful number (the papers use 12..32) and catches typos.
  if (iters < 1 || iters > 1000)
    throw std::invalid_argument("iters must be in [1, 1000], got " + std::to_string(iters));
  if (padding != "sintel" && padding != "kitti")
    throw std::invalid_argument("padding must be 'sintel' or 'kitti', got '" + padding + "'");
  if (precision != "fp32" && precision != "bf16" && precision != "fp16")
    throw std::invalid_argument("precision must be 'fp32', 'bf16' or 'fp16', got '" + precision + "'");
  if (!(early_stop_px >= 0 && early_stop_px <= 100))  // also refuses NaN
    throw std::invalid_argument("early_stop_px must be in [0, 100] pixels, got " + std::to_string(early_stop_px));
  ParseCorrMode(corr);  // throws std::invalid_argument naming the choices
  if (flow_init.defined()) {
    if (flow_init.dim() != 4 || flow_init.size(1) != 2)
      throw std::invalid_argument("flow_init must be [B, 2, H/8, W/8], got " + c10::str(flow_init.sizes()));
    if (!flow_init.is_floating_point())
      throw std::invalid_argument("flow_init must be a floating-point tensor");
  }
}

std::vector<torch::Tensor> UniqueParameters(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  std::unordered_set<const void*> seen;
  for (const auto& p : module.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second) out.push_back(p);
  return out;
}

void SetTrainMode(torch::nn::Module& module, bool freeze_batch_norm) {
  module.train(true);
  if (!freeze_batch_norm) return;
  for (const auto& m : module.modules(/*include_self=*/false))
    if (dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) m->eval();
}

}  // namespace animerun::models
