#include "models/common/runtime.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>

#ifdef ANIMERUN_WITH_CUDA
#include "models/common/cuda_devices.h"
#endif

namespace animerun::models {
namespace {

TEST(Runtime, DescribesTheLibTorchAndItsDevices) {
  const std::string d = DescribeRuntime();
  EXPECT_EQ(d.rfind(std::string("LibTorch ") + TORCH_VERSION + ", ", 0), 0u) << d;
  EXPECT_NE(d.find(CpuHasNativeBf16() ? "bf16 in hardware" : "bf16 emulated"), std::string::npos) << d;
#ifdef ANIMERUN_WITH_CUDA
  EXPECT_NE(d.find("CUDA build, kernels for sm_80, sm_90+PTX"), std::string::npos) << d;
  if (!CudaAvailable()) EXPECT_NE(d.find("no usable CUDA device"), std::string::npos) << d;
#else
  EXPECT_NE(d.find("CPU-only build"), std::string::npos) << d;
#endif
}

#ifdef ANIMERUN_WITH_CUDA
// Our own kernels see the same devices as LibTorch, and each GPU runs them (the binary
// holds code for it); without a GPU the query reports why instead of failing.
TEST(Runtime, CudaProbeAgreesWithLibTorch) {
  const CudaReport r = QueryCudaDevices();
  EXPECT_GE(r.runtime_version, 13000);
  EXPECT_EQ(static_cast<int64_t>(r.devices.size()), static_cast<int64_t>(torch::cuda::device_count()));
  if (r.devices.empty()) {
    EXPECT_FALSE(r.error.empty());
    EXPECT_FALSE(CudaAvailable());
    EXPECT_THROW(CheckDeviceName("cuda"), std::invalid_argument);
  }
  for (const CudaDevice& dev : r.devices) {
    EXPECT_EQ(dev.kernel_error, "") << dev.name;
    EXPECT_GE(dev.kernel_arch, 800) << dev.name;
    EXPECT_LE(dev.kernel_arch, dev.major * 100 + dev.minor * 10) << dev.name;
  }
}
#endif

}  // namespace
}  // namespace animerun::models
