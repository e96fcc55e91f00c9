// The one place where the code differs between the two LibTorch versions it builds
// against: Debian's 1.13 (default build) and the 2.x of the CUDA build (pip wheel).
// Everything else is written once for both. Only declarations here: the c10d headers
// themselves are included by core/train/process_group.cpp alone.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

// True when building against LibTorch major.minor or newer.
#define ANIMERUN_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace c10d {
class ProcessGroup;
class Backend;
}  // namespace c10d

namespace animerun::models::compat {

// The base class of the concrete c10d process groups (ProcessGroupGloo, ProcessGroupNCCL),
// through which collectives are called: 2.0 split c10d::ProcessGroup into a dispatching
// front end and per-device c10d::Backend implementations, which the concrete groups
// derive from since. Their collectives (allreduce, broadcast, barrier returning a
// c10d::Work) have the same signatures in both.
#if ANIMERUN_TORCH_AT_LEAST(2, 0)
using C10dBackend = c10d::Backend;
#else
using C10dBackend = c10d::ProcessGroup;
#endif

// Autocast on the CPU for the scope of the object, like Python's
// `with torch.autocast("cpu", dtype)`: ops on the autocast list (conv, matmul, linear) run
// in `dtype`, precision-sensitive ones (grid_sample, losses) in fp32. The state is
// thread-local and restored on exit. Up to 2.3 there are per-device functions
// (set_cpu_enabled, set_autocast_cpu_dtype); 2.4 made them take the device as an argument
// and deprecated the old names (pytorch/pytorch#124359).
class CpuAutocast {
 public:
  explicit CpuAutocast(c10::ScalarType dtype = c10::kBFloat16, bool enabled = true)
      : was_enabled_(IsEnabled()), previous_dtype_(Dtype()) {
    Set(enabled, dtype);
    at::autocast::increment_nesting();
  }
  ~CpuAutocast() {
    // Casts cached for this region are dropped when the outermost region ends, as in Python.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    Set(was_enabled_, previous_dtype_);
  }
  CpuAutocast(const CpuAutocast&) = delete;
  CpuAutocast& operator=(const CpuAutocast&) = delete;

  static bool IsEnabled() {
#if ANIMERUN_TORCH_AT_LEAST(2, 4)
    return at::autocast::is_autocast_enabled(at::kCPU);
#else
    return at::autocast::is_cpu_enabled();
#endif
  }
  static c10::ScalarType Dtype() {
#if ANIMERUN_TORCH_AT_LEAST(2, 4)
    return at::autocast::get_autocast_dtype(at::kCPU);
#else
    return at::autocast::get_autocast_cpu_dtype();
#endif
  }

 private:
  static void Set(bool enabled, c10::ScalarType dtype) {
#if ANIMERUN_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_enabled(at::kCPU, enabled);
    at::autocast::set_autocast_dtype(at::kCPU, dtype);
#else
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
#endif
  }

  bool was_enabled_;
  c10::ScalarType previous_dtype_;
};

}  // namespace animerun::models::compat
