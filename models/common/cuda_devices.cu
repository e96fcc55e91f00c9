#include "models/common/cuda_devices.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>

#include <exception>

namespace animerun::models {
namespace {

// Writes the architecture its code was compiled for: tells which of the binary's images
// (sm_80/sm_90 SASS, sm_90 PTX) the driver picked for this GPU.
__global__ void ArchProbeKernel(int* out) {
#ifdef __CUDA_ARCH__
  *out = __CUDA_ARCH__;
#endif
}

std::string Describe(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

// Runs the probe on LibTorch's current stream of `device`, the stream our kernels use.
int RunArchProbe(int device, std::string* error) {
  try {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    cudaStream_t stream = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device)).stream();
    int* d_arch = nullptr;
    cudaError_t e = cudaMalloc(&d_arch, sizeof(int));
    if (e != cudaSuccess) {
      *error = Describe(e);
      return 0;
    }
    int arch = 0;
    e = cudaMemsetAsync(d_arch, 0, sizeof(int), stream);
    if (e == cudaSuccess) {
      ArchProbeKernel<<<1, 1, 0, stream>>>(d_arch);
      e = cudaGetLastError();
    }
    if (e == cudaSuccess) e = cudaMemcpyAsync(&arch, d_arch, sizeof(int), cudaMemcpyDeviceToHost, stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
    cudaFree(d_arch);
    if (e != cudaSuccess) {
      *error = Describe(e);
      return 0;
    }
    return arch;
  } catch (const std::exception& ex) {
    *error = ex.what();
    return 0;
  }
}

}  // namespace

CudaReport QueryCudaDevices() {
  CudaReport r;
  cudaRuntimeGetVersion(&r.runtime_version);
  cudaDriverGetVersion(&r.driver_version);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later runtime calls start clean
    r.error = Describe(e);
    return r;
  }
  for (int i = 0; i < count; ++i) {
    CudaDevice d;
    d.index = i;
    cudaDeviceProp p{};
    e = cudaGetDeviceProperties(&p, i);
    if (e != cudaSuccess) {
      d.kernel_error = Describe(e);
    } else {
      d.name = p.name;
      d.major = p.major;
      d.minor = p.minor;
      d.memory_bytes = p.totalGlobalMem;
      d.kernel_arch = RunArchProbe(i, &d.kernel_error);
    }
    r.devices.push_back(std::move(d));
  }
  if (count == 0) r.error = "no CUDA device";
  return r;
}

}  // namespace animerun::models
