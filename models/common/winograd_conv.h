// 3x3 convolutions (stride 1, padding 1) by Winograd's minimal filtering, for CPU inference
// on large maps.
//
// A direct 3x3 convolution costs 9 multiply-adds per input channel per output pixel, and
// oneDNN already runs it at the CPU's peak (AnT's 64 -> 128 layer at 960x540: 0.38 s for 76
// GFLOP on 2 Zen 4 cores). F(m x m, 3 x 3) computes an m x m block of outputs from an
// (m+2) x (m+2) block of inputs with (m+2)^2 products per channel pair, done as (m+2)^2
// matrix products [tiles x C] x [C x K]: 4x fewer multiplies for m = 4, 2.25x for m = 2.
// The input and output transforms are cheap per element and run tile block by tile block so
// that the transformed data stays in cache. Float rounding grows with m (measured in the
// tests against a double reference); callers choose m.
#pragma once

#include <torch/types.h>

namespace animerun::models {

// conv2d(x, weight, bias, stride 1, padding 1) for float CPU tensors: x [1, C, H, W] (any
// memory format), weight [K, C, 3, 3], bias [K] or undefined. Returns [1, K, H, W] in
// channels-last memory. tile_size m is 2 or 4. Throws std::invalid_argument otherwise. No
// autograd: call it under NoGradGuard (inference) only.
torch::Tensor WinogradConv3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              int tile_size = 2);

// What a segment-mean pooling and an InstanceNorm after the convolution need, summed in
// double straight from the output transform, so that the [K, H, W] output is never written
// (AnT's last layer: 253 MB per 960x540 frame, written, normalised and read again).
struct WinogradSegmentSums {
  torch::Tensor sums;            // [N, K] double: each segment's sum of the output vectors
  torch::Tensor channel_sum;     // [K] double: each channel's sum over all pixels
  torch::Tensor channel_sum_sq;  // [K] double: each channel's sum of squares over all pixels
};
// segments: H x W ids in [0, num_segments) (any integer dtype and shape with H * W
// elements). The sums do not depend on the thread count.
WinogradSegmentSums WinogradConv3x3SegmentSums(const torch::Tensor& x, const torch::Tensor& weight,
                                               const torch::Tensor& bias, const torch::Tensor& segments,
                                               int64_t num_segments, int tile_size = 2);

}  // namespace animerun::models
