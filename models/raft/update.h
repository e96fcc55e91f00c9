// RAFT's recurrent update operator (core/update.py): motion encoders, the convolutional
// GRUs, the flow head and the update blocks. Submodule names follow the official state
// dict (update_block.encoder.convc1, update_block.gru.convz1, update_block.mask.0, ...).
#pragma once

#include <cstdint>
#include <utility>

#include <torch/torch.h>

namespace animerun::models {

class FlowHeadImpl : public torch::nn::Module {
 public:
  FlowHeadImpl(int64_t input_dim, int64_t hidden_dim);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(FlowHead);

// 3x3 ConvGRU (RAFT-small).
class ConvGRUImpl : public torch::nn::Module {
 public:
  ConvGRUImpl(int64_t hidden_dim, int64_t input_dim);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& x);

 private:
  torch::nn::Conv2d convz_{nullptr}, convr_{nullptr}, convq_{nullptr};
};
TORCH_MODULE(ConvGRU);

// Separable ConvGRU: a 1x5 (horizontal) then a 5x1 (vertical) GRU step (RAFT, GMA).
class SepConvGRUImpl : public torch::nn::Module {
 public:
  SepConvGRUImpl(int64_t hidden_dim, int64_t input_dim);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& x);

 private:
  torch::nn::Conv2d convz1_{nullptr}, convr1_{nullptr}, convq1_{nullptr};
  torch::nn::Conv2d convz2_{nullptr}, convr2_{nullptr}, convq2_{nullptr};
};
TORCH_MODULE(SepConvGRU);

// Correlation + flow features. Basic: 126 + 2 (flow) = 128 channels; small: 80 + 2 = 82.
class MotionEncoderImpl : public torch::nn::Module {
 public:
  MotionEncoderImpl(bool small, int64_t cor_planes);
  torch::Tensor forward(const torch::Tensor& flow, const torch::Tensor& corr);
  int64_t out_dim() const { return small_ ? 82 : 128; }

 private:
  bool small_;
  torch::nn::Conv2d convc1_{nullptr}, convc2_{nullptr}, convf1_{nullptr}, convf2_{nullptr}, conv_{nullptr};
};
TORCH_MODULE(MotionEncoder);

// The 8x8 convex-upsampling mask head of the basic update block: conv3x3 128->256, relu,
// conv1x1 256->576 (Sequential indices 0, 1, 2 as in the original).
torch::nn::Sequential MakeMaskHead(int64_t hidden_dim);

// BasicUpdateBlock (small = false) or SmallUpdateBlock (small = true). The original's
// forward returns (net, mask, delta_flow); here Step returns (net, delta_flow) and the
// mask (already scaled by 0.25) is computed by Mask only when an upsampled flow is wanted.
class UpdateBlockImpl : public torch::nn::Module {
 public:
  UpdateBlockImpl(bool small, int64_t cor_planes, int64_t hidden_dim);
  std::pair<torch::Tensor, torch::Tensor> Step(const torch::Tensor& net, const torch::Tensor& inp,
                                               const torch::Tensor& corr, const torch::Tensor& flow);
  torch::Tensor Mask(const torch::Tensor& net);
  bool has_mask() const { return !small_; }

 private:
  bool small_;
  MotionEncoder encoder_{nullptr};
  SepConvGRU sep_gru_{nullptr};
  ConvGRU gru_{nullptr};
  FlowHead flow_head_{nullptr};
  torch::nn::Sequential mask_{nullptr};
};
TORCH_MODULE(UpdateBlock);

}  // namespace animerun::models
