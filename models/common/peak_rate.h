// The machine's multiply-add rate as LibTorch reaches it: the "peak" that `animerun bench`
// divides each network's achieved rate by. Measured, not looked up, so that it holds for
// the threads, the CPU and the LibTorch build (OpenBLAS/oneDNN in 1.13, MKL in the wheel) in use.
#pragma once

#include <string>

namespace animerun::models {

struct PeakRate {
  std::string precision;  // "fp32", "bf16"; on CUDA also "tf32" and "fp16"
  std::string device = "cpu";
  int threads = 0;        // LibTorch intra-op threads during the measurement (CPU)
  double gemm_gflops = 0;  // best of a square matrix product (2 * n^3 FLOP per product)
  double conv_gflops = 0;  // best of a 3x3, 128 -> 128 channel convolution on 256x256 maps
  int gemm_size = 0;       // n of the matrix product
  double best() const { return gemm_gflops > conv_gflops ? gemm_gflops : conv_gflops; }
};

// Runs each kernel repeatedly for about min_seconds (after one warm-up) and keeps the best
// rate, with the current LibTorch thread count on the CPU. device: "cpu" or "cuda[:i]"
// (GPUs: batches of 32 maps for the convolution, each call timed to its result).
// precision: "fp32" or "bf16"; on CUDA also "fp16", and "tf32": fp32 tensors with TF32
// products allowed in cuBLAS and cuDNN for the measurement ("fp32" there measures with TF32
// off; both settings are restored after). std::invalid_argument otherwise.
PeakRate MeasurePeakRate(const std::string& precision, double min_seconds = 1.0, int gemm_size = 2048,
                         const std::string& device = "cpu");

}  // namespace animerun::models
