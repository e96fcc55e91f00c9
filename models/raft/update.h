// RAFT's recurrent update operator (core/update.py): motion encoders, the convolutional
// GRUs, the flow head and the update blocks. Submodule names follow the official state
// dict (update_block.encoder.convc1, update_block.gru.convz1, update_block.mask.0, ...).
#pragma once

#include <cstdint>
#include <utility>

#include <torch/torch.h>

#include "models/common/flop_count.h"

namespace animerun::models {

// The GRU gates split by input block, built once per forward: the GRU input is
// [context features, per-iteration features], and the context share of every gate
// convolution (plus its bias) does not change over the iterations, so it is computed once.
// Mathematically the same as the original convolutions over the concatenation; float
// results differ only by summation order.
struct GruHalfPlan {
  torch::Tensor w_h_zr;   // [2*hd, hd, kh, kw]: the hidden-state part of convz and convr
  torch::Tensor w_h_q;    // [hd, hd, kh, kw]: the hidden-state part of convq (applied to r*h)
  torch::Tensor w_m_zrq;  // [3*hd, m, kh, kw]: the per-iteration input part of convz, convr, convq
  torch::Tensor ctx_zrq;  // conv(context, its part of convz/convr/convq) + biases, [B, 3*hd, h, w]
  std::vector<int64_t> padding;
};
using GruPlan = std::vector<GruHalfPlan>;  // one half per GRU step (SepConvGRU: 1x5 then 5x1)

class FlowHeadImpl : public torch::nn::Module {
 public:
  FlowHeadImpl(int64_t input_dim, int64_t hidden_dim);
  torch::Tensor forward(const torch::Tensor& x);
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(FlowHead);

// 3x3 ConvGRU (RAFT-small).
class ConvGRUImpl : public torch::nn::Module {
 public:
  ConvGRUImpl(int64_t hidden_dim, int64_t input_dim);
  // The original: x = [context, per-iteration input].
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& x);
  // Same result with the context share precomputed (see GruHalfPlan); m = x without context.
  GruPlan Plan(const torch::Tensor& context);
  torch::Tensor Step(const GruPlan& plan, const torch::Tensor& h, const torch::Tensor& m);
  // The original's convolutions over the whole [h, x] (the context share counted every time).
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const;

 private:
  torch::nn::Conv2d convz_{nullptr}, convr_{nullptr}, convq_{nullptr};
};
TORCH_MODULE(ConvGRU);

// Separable ConvGRU: a 1x5 (horizontal) then a 5x1 (vertical) GRU step (RAFT, GMA).
class SepConvGRUImpl : public torch::nn::Module {
 public:
  SepConvGRUImpl(int64_t hidden_dim, int64_t input_dim);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& x);
  GruPlan Plan(const torch::Tensor& context);
  torch::Tensor Step(const GruPlan& plan, const torch::Tensor& h, const torch::Tensor& m);
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const;

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
  // Counts its convolutions on [batch, *, h, w], `times` times (FlopCount).
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const;

 private:
  bool small_;
  torch::nn::Conv2d convc1_{nullptr}, convc2_{nullptr}, convf1_{nullptr}, convf2_{nullptr}, conv_{nullptr};
};
TORCH_MODULE(MotionEncoder);

// The 8x8 convex-upsampling mask head of the basic update block: conv3x3 128->256, relu,
// conv1x1 256->576 (Sequential indices 0, 1, 2 as in the original).
torch::nn::Sequential MakeMaskHead(int64_t hidden_dim);

// Runs one step of a planned GRU: the helper behind ConvGRU/SepConvGRU::Step.
torch::Tensor GruStepPlanned(const GruHalfPlan& plan, const torch::Tensor& h, const torch::Tensor& m);

// BasicUpdateBlock (small = false) or SmallUpdateBlock (small = true). The original's
// forward(net, inp, corr, flow) returns (net, mask, delta_flow); here Prepare(inp) runs
// once per forward, Step returns (net, delta_flow), and the mask (already scaled by 0.25)
// is computed by Mask only when an upsampled flow is wanted.
class UpdateBlockImpl : public torch::nn::Module {
 public:
  UpdateBlockImpl(bool small, int64_t cor_planes, int64_t hidden_dim);
  GruPlan Prepare(const torch::Tensor& inp);
  std::pair<torch::Tensor, torch::Tensor> Step(const GruPlan& plan, const torch::Tensor& net,
                                               const torch::Tensor& corr, const torch::Tensor& flow);
  torch::Tensor Mask(const torch::Tensor& net);
  bool has_mask() const { return !small_; }
  // The original update block's convolutions, mask head included (the original computes
  // the mask in every iteration), `times` iterations on [batch, *, h, w].
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const;

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
