#include "models/common/runtime.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace animerun::models {

int ConfigureThreads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  return at::get_num_threads();
}

bool CudaAvailable() { return torch::cuda::is_available(); }

#ifdef ANIMERUN_WITH_CUDA
namespace {

// LibTorch's architecture list ("8.0 9.0+PTX") as nvcc names them ("sm_80, sm_90+PTX").
std::string ArchitectureList(const std::string& torch_list) {
  std::string out;
  std::stringstream in(torch_list);
  std::string a;
  while (in >> a) {
    if (!out.empty()) out += ", ";
    std::string sm;
    for (char c : a.substr(0, a.find('+')))
      if (c != '.') sm += c;
    out += "sm_" + sm + (a.find("+PTX") != std::string::npos ? "+PTX" : "");
  }
  return out;
}

std::string CudaVersion(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

}  // namespace
#endif

bool CpuHasNativeBf16() {
  static const bool native = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream words(line);
      std::string w;
      while (words >> w)
        if (w == "avx512_bf16" || w == "amx_bf16") return true;
      return false;  // the first CPU's flags speak for all
    }
    return false;
  }();
  return native;
}

int ParallelLoopThreads() {
  // One chunk per thread: parallel_for hands each thread the chunk starting at its index,
  // and the serial fallback runs the whole range as the one chunk starting at 0.
  const int n = at::get_num_threads();
  std::vector<std::atomic<bool>> ran(static_cast<size_t>(n));
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t) { ran[static_cast<size_t>(begin)].store(true); });
  return static_cast<int>(std::count_if(ran.begin(), ran.end(), [](const std::atomic<bool>& r) { return r.load(); }));
}

std::string DescribeRuntime() {
  std::ostringstream s;
  s << "LibTorch " << TORCH_VERSION << ", " << at::get_num_threads() << " CPU threads (" << ParallelLoopThreads()
    << " in our own kernels), bf16 "
    << (CpuHasNativeBf16() ? "in hardware" : "emulated (slower than fp32 here)");
#ifdef ANIMERUN_WITH_CUDA
  const CudaReport r = QueryCudaDevices();
  s << "; CUDA build, kernels for " << ArchitectureList(ANIMERUN_CUDA_ARCHITECTURES) << "; CUDA runtime "
    << CudaVersion(r.runtime_version) << ", driver "
    << (r.driver_version ? CudaVersion(r.driver_version) : std::string("none"));
  if (!r.error.empty()) s << "; no usable CUDA device (" << r.error << ")";
  for (const CudaDevice& d : r.devices) {
    s << "\n  cuda:" << d.index << " " << d.name << ", compute capability " << d.major << "." << d.minor << ", "
      << (d.memory_bytes >> 20) << " MiB, ";
    if (d.kernel_arch)
      s << "kernels run as compute_" << d.kernel_arch / 10;
    else
      s << "kernels cannot run: " << d.kernel_error;
  }
#else
  s << "; CPU-only build";
#endif
  return s.str();
}

std::vector<ComputeDevice> ComputeDevicesFrom(const CudaReport* cuda, int cpu_threads) {
  std::vector<ComputeDevice> out;
  out.push_back({"cpu", "CPU (" + std::to_string(cpu_threads) + (cpu_threads == 1 ? " thread)" : " threads)"), true, ""});
  std::string why;
  if (!cuda) {
    why = "this build has no CUDA (CPU-only LibTorch); the LibTorch 2.x CUDA build runs on NVIDIA GPUs";
  } else {
    for (const CudaDevice& d : cuda->devices) {
      ComputeDevice c;
      c.id = "cuda:" + std::to_string(d.index);
      c.label = c.id + ": " + d.name + ", " + std::to_string((d.memory_bytes + (512u << 20)) >> 30) + " GiB";
      c.usable = d.kernel_arch != 0;
      if (!c.usable) c.reason = "this build's kernels cannot run on it: " + d.kernel_error;
      out.push_back(c);
    }
    if (cuda->devices.empty())
      why = cuda->error.empty() ? std::string("no CUDA device found") : "no usable CUDA device: " + cuda->error;
  }
  if (!why.empty()) out.push_back({"cuda", "GPU (CUDA)", false, why});
  return out;
}

std::vector<ComputeDevice> ListComputeDevices() {
#ifdef ANIMERUN_WITH_CUDA
  const CudaReport r = QueryCudaDevices();
  return ComputeDevicesFrom(&r, at::get_num_threads());
#else
  return ComputeDevicesFrom(nullptr, at::get_num_threads());
#endif
}

void CheckDeviceName(const char* name) {
  const std::string s(name);
  if (s == "cpu") return;
  if (s.rfind("cuda", 0) == 0) {
    if (!CudaAvailable())
      throw std::invalid_argument("device '" + s + "' asked for, but this LibTorch has no CUDA or no GPU is visible");
    torch::Device d(s);  // validates "cuda:N"
    (void)d;
    return;
  }
  throw std::invalid_argument("unknown device '" + s + "' (use cpu or cuda[:N])");
}

}  // namespace animerun::models
