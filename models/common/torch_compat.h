// The one place where the code differs between the two LibTorch versions it builds
// against: Debian's 1.13 (default build) and the 2.x of the CUDA build (pip wheel).
// Everything else is written once for both. Only declarations here: the c10d headers
// themselves are included by core/train/process_group.cpp alone.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
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

// Autocast on one device type for the scope of the object, like Python's
// `with torch.autocast(device, dtype)`: ops on the autocast list (conv, matmul, linear) run
// in `dtype`, precision-sensitive ones (grid_sample, losses) in fp32. The state is
// thread-local and restored on exit. Up to 2.3 there are per-device functions
// (set_cpu_enabled / set_enabled for CUDA, set_autocast_cpu_dtype / set_autocast_gpu_dtype);
// 2.4 made them take the device as an argument and deprecated the old names
// (pytorch/pytorch#124359). Devices: kCPU and kCUDA.
class Autocast {
 public:
  Autocast(c10::DeviceType device, c10::ScalarType dtype, bool enabled = true)
      : device_(device), was_enabled_(IsEnabled(device)), previous_dtype_(Dtype(device)) {
    Set(device_, enabled, dtype);
    at::autocast::increment_nesting();
  }
  ~Autocast() {
    // Casts cached for this region are dropped when the outermost region ends, as in Python.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    Set(device_, was_enabled_, previous_dtype_);
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

  static bool IsEnabled(c10::DeviceType device) {
#if ANIMERUN_TORCH_AT_LEAST(2, 4)
    return at::autocast::is_autocast_enabled(device);
#else
    return device == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
  }
  static c10::ScalarType Dtype(c10::DeviceType device) {
#if ANIMERUN_TORCH_AT_LEAST(2, 4)
    return at::autocast::get_autocast_dtype(device);
#else
    return device == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype()
                                          : at::autocast::get_autocast_gpu_dtype();
#endif
  }

 private:
  static void Set(c10::DeviceType device, bool enabled, c10::ScalarType dtype) {
#if ANIMERUN_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_enabled(device, enabled);
    at::autocast::set_autocast_dtype(device, dtype);
#else
    if (device == c10::DeviceType::CPU) {
      at::autocast::set_cpu_enabled(enabled);
      at::autocast::set_autocast_cpu_dtype(dtype);
    } else {
      at::autocast::set_enabled(enabled);
      at::autocast::set_autocast_gpu_dtype(dtype);
    }
#endif
  }

  c10::DeviceType device_;
  bool was_enabled_;
  c10::ScalarType previous_dtype_;
};

// CPU autocast, bf16 unless told otherwise.
class CpuAutocast : public Autocast {
 public:
  explicit CpuAutocast(c10::ScalarType dtype = c10::kBFloat16, bool enabled = true)
      : Autocast(c10::DeviceType::CPU, dtype, enabled) {}
  static bool IsEnabled() { return Autocast::IsEnabled(c10::DeviceType::CPU); }
  static c10::ScalarType Dtype() { return Autocast::Dtype(c10::DeviceType::CPU); }
};

}  // namespace animerun::models::compat
