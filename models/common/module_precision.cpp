#include "models/common/module_precision.h"

#include <stdexcept>
#include <unordered_set>

namespace animerun::models {

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
