// GMFlow's CNN feature encoder (haofeixu/gmflow backbone.py): a ResNet-style stack with
// parameter-free instance norm, a final 1x1 conv and, for the multi-scale model, a
// weight-shared "trident" conv that gives the 1/4 and 1/8 feature maps.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "models/common/flop_count.h"
#include "models/common/train_conv2d.h"

namespace animerun::models::gmflow {

// nn.InstanceNorm2d with its defaults (no affine, no running stats, eps 1e-5).
torch::Tensor InstanceNorm(const torch::Tensor& x);

class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  // CPU inference on one image in float channel blocks [C / 16, H, W, 16] (see
  // CnnEncoderImpl::forward): returns the block's output in the same layout.
  at::Tensor ForwardBlocks(const at::Tensor& x);
  std::pair<int64_t, int64_t> CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const;

 private:
  TrainConv2d conv1_{nullptr};  // 3x3: Winograd in CPU training (train_conv2d.h)
  TrainConv2d conv2_{nullptr};
  // Official: Sequential(conv1x1, norm3). The norm has no weights, so only index 0 is a
  // module here and the norm is applied in forward; keys stay downsample.0.weight/bias.
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(ResidualBlock);

// Shared-weight 3x3 conv applied with a different stride per branch (no bias).
class TridentConvImpl : public torch::nn::Module {
 public:
  TridentConvImpl(int64_t channels, std::vector<int64_t> strides);
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  const torch::Tensor& weight() const { return weight_; }
  const std::vector<int64_t>& strides() const { return strides_; }

 private:
  torch::Tensor weight_;
  std::vector<int64_t> strides_;
};
TORCH_MODULE(TridentConv);

class CnnEncoderImpl : public torch::nn::Module {
 public:
  CnnEncoderImpl(int64_t output_dim, int num_output_scales);
  // Features from high to low resolution: [1/8] for one scale, [1/4, 1/8] for two.
  // In CPU inference (fp32 or bf16 weights and input, no autograd, oneDNN's Winograd in this
  // build and CPU, SetWinogradInference on), images go one at a time through ForwardBlocks;
  // else LibTorch's layers.
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  // Counts its convolutions on [batch, 3, h, w]; returns the feature sizes, high to low.
  std::vector<std::pair<int64_t, int64_t>> CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const;

 private:
  torch::nn::Sequential MakeLayer(int64_t dim, int64_t stride);
  bool BlocksApply(const torch::Tensor& x) const;
  // One image [1, 3, H, W] in the weights' dtype: the stride-1 3x3 convolutions by oneDNN's
  // fp32 Winograd in bands (also for bf16 weights: faster than its bf16 direct kernels), the
  // maps between them in float channel blocks with instance norm, ReLU and residual sums fused
  // (channel_block_maps.h); the 7x7, stride-2 and 1x1 convolutions through LibTorch in the
  // weights' dtype, channels-last.
  std::vector<torch::Tensor> ForwardBlocks(const torch::Tensor& img);

  int num_branch_;
  int64_t in_planes_ = 64;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
  TridentConv trident_conv_{nullptr};
};
TORCH_MODULE(CnnEncoder);

}  // namespace animerun::models::gmflow
