#include "models/common/runtime.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "models/common/cuda_devices.h"

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

// The library's own at::parallel_for loops use LibTorch's threads: they ran on one thread
// while the sources were compiled without OpenMP. Only the clang sanitizer build is meant
// to keep them serial (CMakeLists.txt).
TEST(Runtime, OurParallelLoopsUseLibTorchsThreads) {
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  const int threads = ParallelLoopThreads();
  at::set_num_threads(1);
  const int one = ParallelLoopThreads();
  at::set_num_threads(before);
  EXPECT_EQ(one, 1);
#if defined(__clang__)
  EXPECT_GE(threads, 1);
#else
  EXPECT_EQ(threads, 2) << "at::parallel_for ran our kernels on " << threads << " thread(s) of 2";
#endif
  EXPECT_NE(DescribeRuntime().find(" in our own kernels)"), std::string::npos);
}

TEST(Runtime, DeviceListHasTheCpuAndSaysWhyAGpuCannotBeUsed) {
  // A build without CUDA: the CPU, and the GPU greyed out with the reason.
  auto d = ComputeDevicesFrom(nullptr, 2);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].id, "cpu");
  EXPECT_EQ(d[0].label, "CPU (2 threads)");
  EXPECT_TRUE(d[0].usable);
  EXPECT_EQ(d[1].id, "cuda");
  EXPECT_FALSE(d[1].usable);
  EXPECT_NE(d[1].reason.find("no CUDA"), std::string::npos) << d[1].reason;

  // A CUDA build on a machine without a driver.
  CudaReport none;
  none.error = "cudaErrorInsufficientDriver: CUDA driver version is insufficient";
  d = ComputeDevicesFrom(&none, 1);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].label, "CPU (1 thread)");
  EXPECT_FALSE(d[1].usable);
  EXPECT_NE(d[1].reason.find("cudaErrorInsufficientDriver"), std::string::npos) << d[1].reason;

  // Two GPUs, one of which cannot run this binary's kernels.
  CudaReport two;
  two.devices.resize(2);
  two.devices[0].index = 0;
  two.devices[0].name = "NVIDIA H100 80GB HBM3";
  two.devices[0].memory_bytes = size_t{85} << 30;
  two.devices[0].kernel_arch = 900;
  two.devices[1].index = 1;
  two.devices[1].name = "Old GPU";
  two.devices[1].kernel_error = "no kernel image is available for execution on the device";
  d = ComputeDevicesFrom(&two, 2);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[1].id, "cuda:0");
  EXPECT_EQ(d[1].label, "cuda:0: NVIDIA H100 80GB HBM3, 85 GiB");
  EXPECT_TRUE(d[1].usable);
  EXPECT_EQ(d[2].id, "cuda:1");
  EXPECT_FALSE(d[2].usable);
  EXPECT_NE(d[2].reason.find("no kernel image"), std::string::npos);

  // This binary on this machine: the CPU first; a GPU entry is usable exactly when LibTorch sees one.
  d = ListComputeDevices();
  ASSERT_GE(d.size(), 2u);
  EXPECT_EQ(d[0].id, "cpu");
  bool any_gpu = false;
  for (size_t i = 1; i < d.size(); ++i) any_gpu = any_gpu || d[i].usable;
  EXPECT_EQ(any_gpu, CudaAvailable());
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
