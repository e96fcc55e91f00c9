#include "models/common/peak_rate.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <stdexcept>

#include <torch/torch.h>

#include "models/common/flow_model.h"

namespace animerun::models {
namespace {

// Best FLOP/s of fn (doing `flop` work per call) over repeated calls for about min_seconds.
double BestRate(const std::function<void()>& fn, double flop, double min_seconds) {
  fn();  // warm-up: first-call allocation and kernel selection
  double best = 0, spent = 0;
  int runs = 0;
  while (spent < min_seconds || runs < 3) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spent += s;
    ++runs;
    if (s > 0) best = std::max(best, flop / s);
  }
  return best;
}

}  // namespace

PeakRate MeasurePeakRate(const std::string& precision, double min_seconds, int gemm_size) {
  const auto dtype = PrecisionDtype(precision);
  if (gemm_size < 64) throw std::invalid_argument("MeasurePeakRate: gemm_size must be >= 64");
  c10::InferenceMode guard;
  PeakRate r;
  r.precision = precision;
  r.threads = at::get_num_threads();
  r.gemm_size = gemm_size;
  const auto opts = torch::TensorOptions().dtype(dtype);
  const int64_t n = gemm_size;
  const auto a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  auto c = torch::empty({n, n}, opts);
  r.gemm_gflops = BestRate([&] { torch::mm_out(c, a, b); }, 2.0 * n * n * n, min_seconds / 2) / 1e9;
  // The convolution shape the flow networks' encoders and update blocks spend their time in.
  const int64_t ch = 128, side = 256;
  const auto x = torch::randn({1, ch, side, side}, opts).contiguous(at::MemoryFormat::ChannelsLast);
  const auto w = torch::randn({ch, ch, 3, 3}, opts).contiguous(at::MemoryFormat::ChannelsLast);
  r.conv_gflops =
      BestRate([&] { (void)torch::conv2d(x, w, {}, 1, 1); }, 2.0 * ch * ch * 9 * side * side, min_seconds / 2) / 1e9;
  return r;
}

}  // namespace animerun::models
