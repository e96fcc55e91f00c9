#include "models/common/peak_rate.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>

#include <torch/torch.h>

#include "models/common/flow_model.h"

namespace animerun::models {
namespace {

// Best FLOP/s of fn (doing `flop` work per call) over repeated calls for about min_seconds;
// sync() waits for the device after each call.
double BestRate(const std::function<void()>& fn, const std::function<void()>& sync, double flop, double min_seconds) {
  fn();  // warm-up: first-call allocation and kernel selection
  sync();
  double best = 0, spent = 0;
  int runs = 0;
  while (spent < min_seconds || runs < 3) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    sync();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spent += s;
    ++runs;
    if (s > 0) best = std::max(best, flop / s);
  }
  return best;
}

// Sets cuBLAS's and cuDNN's TF32 switches for its lifetime, then puts back what was there.
class Tf32Setting {
 public:
  explicit Tf32Setting(bool allow)
      : cublas_(at::globalContext().allowTF32CuBLAS()), cudnn_(at::globalContext().allowTF32CuDNN()) {
    at::globalContext().setAllowTF32CuBLAS(allow);
    at::globalContext().setAllowTF32CuDNN(allow);
  }
  ~Tf32Setting() {
    at::globalContext().setAllowTF32CuBLAS(cublas_);
    at::globalContext().setAllowTF32CuDNN(cudnn_);
  }
  Tf32Setting(const Tf32Setting&) = delete;
  Tf32Setting& operator=(const Tf32Setting&) = delete;

 private:
  bool cublas_, cudnn_;
};

}  // namespace

PeakRate MeasurePeakRate(const std::string& precision, double min_seconds, int gemm_size, const std::string& device_name) {
  const torch::Device device = [&] {
    try {
      return torch::Device(device_name);
    } catch (const c10::Error&) {
      throw std::invalid_argument("MeasurePeakRate: device must be cpu or cuda[:i], got '" + device_name + "'");
    }
  }();
  const bool cuda = device.is_cuda();
  if (!cuda && !device.is_cpu())
    throw std::invalid_argument("MeasurePeakRate: device must be cpu or cuda, got '" + device_name + "'");
  if (!cuda && (precision == "tf32" || precision == "fp16"))
    throw std::invalid_argument("MeasurePeakRate: " + precision + " is measured on CUDA only");
  const auto dtype = precision == "tf32" ? torch::kFloat : PrecisionDtype(precision);
  if (gemm_size < 64) throw std::invalid_argument("MeasurePeakRate: gemm_size must be >= 64");
  c10::InferenceMode guard;
  const std::unique_ptr<Tf32Setting> tf32 = cuda ? std::make_unique<Tf32Setting>(precision == "tf32") : nullptr;
  PeakRate r;
  r.precision = precision;
  r.device = device_name;
  r.threads = at::get_num_threads();
  r.gemm_size = gemm_size;
  const auto opts = torch::TensorOptions().dtype(dtype).device(device);
  const int64_t n = gemm_size;
  const auto a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  auto c = torch::empty({n, n}, opts);
  // One element back to the host waits for the GPU's queue (a no-op wait on the CPU).
  const auto sync = [&] {
    if (cuda) (void)c[0][0].item<float>();
  };
  r.gemm_gflops = BestRate([&] { torch::mm_out(c, a, b); }, sync, 2.0 * n * n * n, min_seconds / 2) / 1e9;
  // The convolution shape the flow networks' encoders and update blocks spend their time in.
  const int64_t ch = 128, side = 256, batch = cuda ? 32 : 1;
  const auto x = torch::randn({batch, ch, side, side}, opts).contiguous(at::MemoryFormat::ChannelsLast);
  const auto w = torch::randn({ch, ch, 3, 3}, opts).contiguous(at::MemoryFormat::ChannelsLast);
  torch::Tensor y;
  const auto conv_sync = [&] {
    if (cuda) (void)y[0][0][0][0].item<float>();
  };
  r.conv_gflops = BestRate([&] { y = torch::conv2d(x, w, {}, 1, 1); }, conv_sync,
                           2.0 * batch * ch * ch * 9 * side * side, min_seconds / 2) /
                  1e9;
  return r;
}

}  // namespace animerun::models
