// Matrix products for CPU inference through oneDNN's matmul.
//
// The Debian LibTorch 1.13 runs fp32 batched products on OpenBLAS, which is slow on the
// shapes attention has: GMFlow-refine's window scores q k^T ([128, 448, 128] x [128, 128,
// 448]) run at 84 GFLOP/s on 2 Zen 4 cores, oneDNN's matmul (the libdnnl 2.6 that LibTorch
// links) at 180; GMFlow's 1792-token windows 160 against 189; the products with the
// probabilities 143-167 against 174-198; bf16 scores 214 against 331 (docs/benchmarks.md).
//
// Present only where the build found oneDNN's headers (ANIMERUN_WITH_DNNL, the Debian
// LibTorch build); elsewhere, and for anything the kernel does not take, at::matmul.
#pragma once

#include <ATen/core/Tensor.h>

namespace animerun::models {

// at::matmul(a, b) for a [..., M, K] and b [..., K, N] with the same leading dimensions
// (none, one or two), by oneDNN where it applies: this build has it, both tensors on the
// CPU in float or bf16 (the same), no gradient wanted, no CPU autocast, each matrix row- or column-major
// in memory (transposed views need no copy). The result is a new contiguous tensor of a's
// dtype. Anything else goes to at::matmul. The sums are in another order than OpenBLAS's,
// so the values differ by float rounding.
at::Tensor CpuMatmul(const at::Tensor& a, const at::Tensor& b);

// at::linear(x, weight, bias): x [..., in] @ weight[out, in]^T + bias [out] (or undefined),
// by oneDNN's matmul under the same conditions (bias of the same dtype); else at::linear.
// GMFlow's projections and feed-forward layers, fp32, 2 Zen 4 threads: 169-211 GFLOP/s
// against OpenBLAS's 135-192.
at::Tensor CpuLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// Whether CpuMatmul(a, b) would run through oneDNN (tests, benchmarks).
bool CpuMatmulUsesDnnl(const at::Tensor& a, const at::Tensor& b);

}  // namespace animerun::models
