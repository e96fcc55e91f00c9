// Process-wide LibTorch settings, kept out of headers that don't need torch.
#pragma once

#include <string>

namespace animerun::models {

// Sets LibTorch's intra-op threads. n <= 0 means all cores (Debian's LibTorch starts
// with one thread otherwise). Returns the number in effect.
int ConfigureThreads(int n = 0);

// True when LibTorch was built with CUDA and a device is visible.
bool CudaAvailable();

// One line (plus one per CUDA device) saying which LibTorch this binary runs on: version,
// CPU threads, and in CUDA builds the kernel architectures, the CUDA runtime and each
// device with the architecture our own probe kernel ran as. Never throws.
std::string DescribeRuntime();

// "cpu" or "cuda"/"cuda:N"; throws std::invalid_argument for anything else or for cuda
// without a device, with a message saying so.
void CheckDeviceName(const char* name);

}  // namespace animerun::models
