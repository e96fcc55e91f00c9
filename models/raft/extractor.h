// RAFT's feature and context encoders (core/extractor.py): ResidualBlock, BottleneckBlock,
// BasicEncoder (1/8 resolution, 256-d features) and SmallEncoder. Submodule names follow
// the official state dict (conv1, norm1, layer1.0.conv1, layer2.0.downsample.0, ...).
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "models/common/flop_count.h"

namespace animerun::models {

// The norm_fn argument of the original: 'group', 'batch', 'instance' or 'none'.
enum class NormFn { kGroup, kBatch, kInstance, kNone };

// nn.InstanceNorm2d() as the original uses it (no affine parameters, no running stats,
// eps 1e-5), but keeping a channels-last input channels-last: ATen's instance_norm makes
// its input contiguous and would turn the rest of the encoder back to NCHW.
class InstanceNormImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(InstanceNorm);

// A norm layer as the original builds it (InstanceNorm2d without affine parameters or
// running stats; nn.Sequential() for 'none', which has no parameters).
torch::nn::AnyModule MakeNorm(NormFn fn, int64_t channels, int64_t num_groups);

class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t in_planes, int64_t planes, NormFn norm_fn, int64_t stride = 1);
  torch::Tensor forward(const torch::Tensor& x);
  // Counts this block's convolutions on [batch, C, h, w] (FlopCount); returns the output size.
  std::pair<int64_t, int64_t> CountFlops(FlopCount& count, const std::string& part, int64_t batch, int64_t h,
                                         int64_t w) const;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::AnyModule norm1_, norm2_;
  torch::nn::Sequential downsample_{nullptr};  // conv 1x1 stride s, norm3 (same module)
};
TORCH_MODULE(ResidualBlock);

class BottleneckBlockImpl : public torch::nn::Module {
 public:
  BottleneckBlockImpl(int64_t in_planes, int64_t planes, NormFn norm_fn, int64_t stride = 1);
  torch::Tensor forward(const torch::Tensor& x);
  std::pair<int64_t, int64_t> CountFlops(FlopCount& count, const std::string& part, int64_t batch, int64_t h,
                                         int64_t w) const;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::AnyModule norm1_, norm2_, norm3_;
  torch::nn::Sequential downsample_{nullptr};  // conv 1x1 stride s, norm4 (same module)
};
TORCH_MODULE(BottleneckBlock);

// conv1 7x7/2 -> norm1 -> relu -> layer1 (64) -> layer2 (96, /2) -> layer3 (128, /2) -> conv2 1x1.
// Small: 32/64/96 channels with bottleneck blocks. The original's dropout is training-only.
class EncoderImpl : public torch::nn::Module {
 public:
  EncoderImpl(bool small, int64_t output_dim, NormFn norm_fn);
  torch::Tensor forward(const torch::Tensor& x);
  // Counts the encoder's convolutions on [batch, 3, h, w]; returns the output size (1/8).
  std::pair<int64_t, int64_t> CountFlops(FlopCount& count, const std::string& part, int64_t batch, int64_t h,
                                         int64_t w) const;
  int64_t output_dim() const { return conv2_->options.out_channels(); }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::AnyModule norm1_;
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr};
};
TORCH_MODULE(Encoder);

}  // namespace animerun::models
