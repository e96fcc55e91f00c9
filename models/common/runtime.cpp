#include "models/common/runtime.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <thread>

namespace animerun::models {

int ConfigureThreads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  return at::get_num_threads();
}

bool CudaAvailable() { return torch::cuda::is_available(); }

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
