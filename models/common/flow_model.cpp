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

torch::ScalarType PrecisionDtype(const std::string& precision) {
  if (precision == "fp32") return torch::kFloat;
  if (precision == "bf16") return torch::kBFloat16;
  if (precision == "fp16") return torch::kHalf;
  throw std::invalid_argument("precision must be 'fp32', 'bf16' or 'fp16', got '" + precision + "'");
}

torch::ScalarType ModuleDtype(const torch::nn::Module& module) {
  for (const auto& p : module.parameters())
    if (p.is_floating_point()) return p.scalar_type();
  return torch::kFloat;
}

void ModulePrecision::Use(torch::nn::Module& module, const std::string& precision) {
  const torch::ScalarType dtype = PrecisionDtype(precision);
  if (precision == current_) return;
  if (dtype == torch::kFloat) return Restore();
  if (dtype == torch::kHalf)
    for (const auto& p : module.parameters())
      if (p.is_floating_point() && !p.is_cuda())
        throw std::invalid_argument("fp16 runs on CUDA only (LibTorch's CPU kernels lack it); use bf16 on the CPU");
  // From one reduced precision to the other: back to the fp32 weights first, so that what is
  // kept aside is always fp32.
  if (current_ != "fp32") Restore();
  // Parameters swap their data in place (set_data), which InferenceMode tensors refuse.
  c10::InferenceMode normal_mode(false);
  torch::NoGradGuard no_grad;
  {
    // Modules registered twice (RAFT's norm3 is also downsample.1) list the same tensor
    // twice: convert it once, or its "fp32" copy would be the bf16 one.
    std::unordered_set<const void*> seen;
    auto convert = [&](torch::Tensor& t) {
      if (!t.defined() || !t.is_floating_point() || !seen.insert(t.unsafeGetTensorImpl()).second) return;
      saved_.emplace_back(t, t.data());
      t.set_data(t.data().to(dtype));
    };
    for (auto& p : module.parameters()) convert(p);
    for (auto& b : module.buffers()) convert(b);
  }
  current_ = precision;
}

void ModulePrecision::Restore() {
  c10::InferenceMode normal_mode(false);
  torch::NoGradGuard no_grad;
  for (auto& [tensor, data] : saved_) tensor.set_data(data);
  saved_.clear();
  current_ = "fp32";
}

}  // namespace animerun::models
