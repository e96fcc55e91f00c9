// Maps of one image held in channel blocks [C / 16, H, W, 16] float (ToChannelBlocks):
// conversion from and to channels-last float or bf16 maps, and instance norm (no affine, eps
// 1e-5, as nn.InstanceNorm2d's defaults) fused with the ReLU and the residual sum that follow
// it in ResNet blocks. The maps stay in the layout the channel-block
// convolutions read and write (bf16_winograd_conv.h), so a block costs one read for the
// statistics and one read-write pass after each convolution, where LibTorch's bf16 instance
// norm, ReLU and sum on NCHW maps took several (GMFlow's backbone at 448x1024: 0.3 s of 0.9).
// Sums run in double, pixels in order per row: results do not depend on the thread count.
#pragma once

#include <ATen/core/Tensor.h>

namespace animerun::models {

// [1, C, H, W] float or bf16, C % 16 == 0 -> float blocks [C / 16, H, W, 16]. Channels-last
// maps are read in 16-channel runs; others are made channels-last first.
at::Tensor ChannelBlocksOf(const at::Tensor& map);
// Float blocks -> [1, C, H, W] channels-last of dtype (float or bf16, rounded to nearest even).
at::Tensor ChannelsLastOf(const at::Tensor& blocks, at::ScalarType dtype);

// blocks = norm(blocks), then max(., 0) where relu.
void InstanceNormBlocksInPlace(at::Tensor& blocks, bool relu);

// y = relu(skip + relu(norm(y))): the end of a residual block; skip has y's shape.
void InstanceNormReluAddReluInPlace(at::Tensor& y, const at::Tensor& skip);

}  // namespace animerun::models
