// The CUDA devices as this binary's own kernels see them (CUDA builds only: the
// definition is models/common/cuda_devices.cu). runtime.h wraps it for callers.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace animerun::models {

struct CudaDevice {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;  // compute capability
  size_t memory_bytes = 0;
  // __CUDA_ARCH__ of the code a probe kernel of this binary ran with on the device (e.g.
  // 800 for sm_80 SASS, 900 for sm_90 SASS or PTX); 0 when it could not run, see kernel_error.
  int kernel_arch = 0;
  std::string kernel_error;
};

struct CudaReport {
  int runtime_version = 0;  // of the CUDA runtime loaded, e.g. 13020 for 13.2
  int driver_version = 0;   // 0 when no driver is installed
  std::vector<CudaDevice> devices;
  std::string error;  // why no device can be used (no driver, no device), empty otherwise
};

// Asks the CUDA runtime for the devices and runs a one-thread kernel on each, on
// LibTorch's current stream of that device. Never throws: a machine without a GPU gets
// no devices and the runtime's reason.
CudaReport QueryCudaDevices();

}  // namespace animerun::models
