// Per-token steps of the transformers' CPU bf16 inference, on contiguous bf16 rows [N, C]:
// layer norm and GELU in fp32 arithmetic, one pass over the rows each. LibTorch 1.13's bf16
// layer norm took 9x its fp32 time ([14336, 128]: 8.2 against 0.92 ms on 2 Zen 4 cores) and
// its bf16 GELU about 5 ns an element; GMFlow at 448x1024 spent 169 and 215 ms in them.
// The 1.13 bf16 layer norm is also inexact: on [4096, 128] rows of mean 50 its largest error
// against double is 0.90, this one's 0.016 (the output's own bf16 rounding); the GELU gives
// LibTorch's bits.
#pragma once

#include <ATen/core/Tensor.h>

namespace animerun::models {

// Whether the kernels below take x: a contiguous CPU bf16 tensor with ≥ 1 dimension.
bool Bf16RowsApply(const at::Tensor& x);

// layer_norm(x, [C], weight, bias, eps) over the last dimension C, weight and bias [C] (any
// float dtype): mean and variance in fp32, the result rounded to bf16 once. Where residual is
// defined (x's shape, bf16, contiguous), returns residual + norm(x) instead, rounded once.
// std::invalid_argument where Bf16RowsApply(x) is false or the shapes differ.
at::Tensor Bf16LayerNorm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps,
                         const at::Tensor& residual = {});
// The same into out (x's shape, contiguous CPU bf16; may be a slice of a larger map, not x).
void Bf16LayerNormOut(at::Tensor& out, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      double eps, const at::Tensor& residual = {});

// x = gelu(x) (erf form, or tanh form where tanh) in place, in fp32 arithmetic.
void Bf16GeluInPlace(at::Tensor& x, bool tanh);

}  // namespace animerun::models
