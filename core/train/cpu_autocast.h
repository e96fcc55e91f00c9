// bf16 autocast on the CPU for training (torch.autocast("cpu", dtype=torch.bfloat16) in
// Python): convolutions, matmuls and linear layers run in bf16 while the weights, their
// gradients and the precision-sensitive ops (grid sampling, the correlation lookup, the
// loss) stay fp32. LibTorch has no C++ guard for it; this one saves and restores the
// thread-local state like Python's context manager. The API was renamed in LibTorch 2.x.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace animerun::train {

class CpuAutocastGuard {
 public:
  explicit CpuAutocastGuard(bool enabled) : active_(enabled) {
    if (!active_) return;
#if TORCH_VERSION_MAJOR >= 2
    prev_enabled_ = at::autocast::is_autocast_enabled(at::kCPU);
    prev_dtype_ = at::autocast::get_autocast_dtype(at::kCPU);
    at::autocast::set_autocast_enabled(at::kCPU, true);
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
#else
    prev_enabled_ = at::autocast::is_cpu_enabled();
    prev_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
#endif
    at::autocast::increment_nesting();
  }
  ~CpuAutocastGuard() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR >= 2
    at::autocast::set_autocast_enabled(at::kCPU, prev_enabled_);
    at::autocast::set_autocast_dtype(at::kCPU, prev_dtype_);
#else
    at::autocast::set_cpu_enabled(prev_enabled_);
    at::autocast::set_autocast_cpu_dtype(prev_dtype_);
#endif
  }
  CpuAutocastGuard(const CpuAutocastGuard&) = delete;
  CpuAutocastGuard& operator=(const CpuAutocastGuard&) = delete;

 private:
  bool active_;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kBFloat16;
};

}  // namespace animerun::train
