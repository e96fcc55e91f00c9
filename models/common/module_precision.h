// Reduced-precision inference for LibTorch modules: the dtype of a precision name, the dtype
// a module computes in, and switching a module between fp32 and bf16/fp16 without losing its
// fp32 weights. Used by the flow networks and AnT's encoder.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace animerun::models {

// torch::kFloat for "fp32", kBFloat16 for "bf16", kHalf for "fp16"; std::invalid_argument otherwise.
torch::ScalarType PrecisionDtype(const std::string& precision);
// The dtype of a module's first floating-point parameter (what its layers compute in);
// kFloat when it has none. Forward paths cast their inputs to it, and back to fp32 where
// precision matters, so the same code runs fp32 (all casts are no-ops) and bf16.
torch::ScalarType ModuleDtype(const torch::nn::Module& module);

// Switches a module's floating-point parameters and buffers between fp32 and bf16 without
// losing the fp32 values: the fp32 tensors are kept aside while it runs in bf16 and are put
// back as they were (bit for bit) by Use("fp32"). An explicit cast of the weights rather
// than autocast: autocast on CPU differs between LibTorch 1.13 and 2.x, and casting per
// call would convert every weight in every RAFT iteration.
class ModulePrecision {
 public:
  // Idempotent; call outside or inside InferenceMode.
  void Use(torch::nn::Module& module, const std::string& precision);
  // The module back in fp32 (before loading, saving or moving it): only the tensors kept
  // aside are touched, so this needs no (mutable) module.
  void Restore();
  const std::string& current() const { return current_; }

 private:
  std::string current_ = "fp32";
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved_;  // (parameter/buffer, its fp32 data)
};

}  // namespace animerun::models
