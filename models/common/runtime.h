// Process-wide LibTorch settings, kept out of headers that don't need torch.
#pragma once

#include <string>
#include <vector>

#include "models/common/cuda_devices.h"

namespace animerun::models {

// Sets LibTorch's intra-op threads. n <= 0 means all cores (Debian's LibTorch starts
// with one thread otherwise). Returns the number in effect.
int ConfigureThreads(int n = 0);

// How many threads run an at::parallel_for of this library's own kernels at the current
// setting: at::get_num_threads() where the sources were compiled with OpenMP, 1 where they
// were not (the clang sanitizer build; CMakeLists.txt says why). Runs one tiny loop.
int ParallelLoopThreads();

// True when the CPU computes bf16 products in hardware (AVX-512 BF16 or AMX-BF16, from
// /proc/cpuinfo). Elsewhere LibTorch emulates bf16: slower than fp32 and, in LibTorch 1.13,
// less accurate (its fallback kernels round partial sums to bf16; docs/benchmarks.md).
bool CpuHasNativeBf16();

// True when LibTorch was built with CUDA and a device is visible.
bool CudaAvailable();

// One line (plus one per CUDA device) saying which LibTorch this binary runs on: version,
// CPU threads, and in CUDA builds the kernel architectures, the CUDA runtime and each
// device with the architecture our own probe kernel ran as. Never throws.
std::string DescribeRuntime();

// A device the networks can run on, as a device picker lists it.
struct ComputeDevice {
  std::string id;      // what --device takes: "cpu", "cuda:0", ...; "cuda" on the unusable placeholder
  std::string label;   // for people: "CPU (2 threads)", "cuda:0: NVIDIA H100 80GB HBM3, 79 GiB"
  bool usable = true;
  std::string reason;  // why it cannot be used; empty when usable
};

// The CPU first, then each CUDA device of `cuda` (nullptr: a build without CUDA). Where no
// GPU can be used the list ends with one unusable "cuda" entry whose reason says why (a
// CPU-only LibTorch, no driver, no device, kernels that cannot run on it), so that a picker
// can show the GPU greyed out with the reason.
std::vector<ComputeDevice> ComputeDevicesFrom(const CudaReport* cuda, int cpu_threads);
// ComputeDevicesFrom for this binary and machine (queries the CUDA runtime once per call).
std::vector<ComputeDevice> ListComputeDevices();

// "cpu" or "cuda"/"cuda:N"; throws std::invalid_argument for anything else or for cuda
// without a device, with a message saying so.
void CheckDeviceName(const char* name);

}  // namespace animerun::models
