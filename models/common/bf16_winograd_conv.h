// 3x3 convolutions for CPU bf16 inference by Winograd F(4x4, 3x3) with bf16 products.
//
// AnT's 64 -> 128 layer at 960x540 is 76 GFLOP per frame. oneDNN 2.6 has no bf16 Winograd:
// its bf16 direct kernels took 230 ms per frame on 2 Zen 4 cores, its fp32 F(4x4) 165-175
// ms, so AnT's bf16 mode kept that layer in fp32 and gained little over fp32. Here the input
// and weight transforms and the output transform run in fp32 and only the 36 products in
// the transform domain take bf16 operands (AVX-512 BF16 dot products, fp32 sums): 4x fewer
// multiplies than the direct convolution at twice the fp32 rate. The rounding is that of
// bf16 operands amplified by F(4x4)'s transforms (tests bound it against a double
// reference); AnT pools the output over segments, which averages it down
// (docs/benchmarks.md).
//
// Runs where the CPU has AVX-512 BF16 (Zen 4, Cooper Lake, Sapphire Rapids and later); the
// code is compiled for it with a target attribute and chosen at run time, so any build has it.
#pragma once

#include "models/common/dnnl_winograd_conv.h"

#include <ATen/core/Tensor.h>

namespace animerun::models {

// Whether this CPU runs the kernel (AVX-512 F, BW, VL and BF16).
bool Bf16WinogradAvailable();

// conv2d(stride 1, padding 1) of blocks [C / 16, H, W, 16] (oneDNN's nChw16c as a float
// tensor, ToChannelBlocks) with weight [K, C, 3, 3] float and bias [K] or undefined, handed
// on band by band as DnnlWinogradConv3x3Bands does (bands of ChannelBlockBandRows rows):
// sink(out, row0, rows) gets each band's float output [K / 16, R, W, 16], valid in its first
// `rows` rows, in order; the buffer is reused. No autograd. Throws std::invalid_argument on
// what CheckChannelBlockConv refuses, std::runtime_error where Bf16WinogradAvailable() is false.
void Bf16WinogradConv3x3Bands(const at::Tensor& blocks, const at::Tensor& weight, const at::Tensor& bias,
                              int64_t band_pixels, const BandSink& sink);

}  // namespace animerun::models
