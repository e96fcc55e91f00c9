// The machine's multiply-add rate as LibTorch reaches it: the "peak" that `animerun bench`
// divides each network's achieved rate by. Measured, not looked up, so that it holds for
// the threads, the CPU and the LibTorch build (OpenBLAS/oneDNN in 1.13, MKL in the wheel) in use.
#pragma once

#include <string>

namespace animerun::models {

struct PeakRate {
  std::string precision;  // "fp32" or "bf16"
  int threads = 0;        // LibTorch intra-op threads during the measurement
  double gemm_gflops = 0;  // best of a square matrix product (2 * n^3 FLOP per product)
  double conv_gflops = 0;  // best of a 3x3, 128 -> 128 channel convolution on a 256x256 map
  int gemm_size = 0;       // n of the matrix product
  double best() const { return gemm_gflops > conv_gflops ? gemm_gflops : conv_gflops; }
};

// Runs each kernel repeatedly for about min_seconds (after one warm-up) and keeps the best
// rate, on the CPU with the current LibTorch thread count. precision: "fp32" or "bf16"
// (std::invalid_argument otherwise).
PeakRate MeasurePeakRate(const std::string& precision, double min_seconds = 1.0, int gemm_size = 2048);

}  // namespace animerun::models
