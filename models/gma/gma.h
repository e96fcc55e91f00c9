// GMA (zacjiang/GMA core/network.py RAFTGMA) in LibTorch: RAFT with a global motion
// aggregation over a content-only self-attention of the context features (the released
// configuration: position_only = position_and_content = False). Parameter names match the
// official checkpoints after the 'module.' prefix is stripped.
#pragma once

#include <memory>

#include <torch/torch.h>

#include "models/common/flow_model.h"
#include "models/raft/raft.h"

namespace animerun::models {

// Relative position embeddings of the original. Unused by content-only attention, but
// part of the checkpoint (rel_height, rel_width, and the int64 rel_ind buffer).
class RelPosEmbImpl : public torch::nn::Module {
 public:
  RelPosEmbImpl(int64_t max_pos_size, int64_t dim_head);

 private:
  torch::nn::Embedding rel_height_{nullptr}, rel_width_{nullptr};
  torch::Tensor rel_ind_;
};
TORCH_MODULE(RelPosEmb);

// softmax over all positions of (scale * q) . k, q/k from a bias-free 1x1 conv (to_qk).
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t heads, int64_t dim_head, int64_t max_pos_size);
  // fmap [B, dim, h, w] -> attention [B, heads, h*w, h*w]
  torch::Tensor forward(const torch::Tensor& fmap);
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const;

 private:
  int64_t heads_, dim_head_;
  double scale_;
  torch::nn::Conv2d to_qk_{nullptr};
  RelPosEmb pos_emb_{nullptr};
};
TORCH_MODULE(Attention);

// fmap + gamma * project(attention . to_v(fmap)); project only when heads*dim_head != dim.
class AggregateImpl : public torch::nn::Module {
 public:
  AggregateImpl(int64_t dim, int64_t heads, int64_t dim_head);
  torch::Tensor forward(const torch::Tensor& attn, const torch::Tensor& fmap);
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const;

 private:
  int64_t heads_, dim_head_;
  torch::nn::Conv2d to_v_{nullptr}, project_{nullptr};
  torch::Tensor gamma_;
};
TORCH_MODULE(Aggregate);

class GmaUpdateBlockImpl : public torch::nn::Module {
 public:
  GmaUpdateBlockImpl(int64_t cor_planes, int64_t hidden_dim, int64_t heads);
  // Once per forward: the GRU's context share (see GruHalfPlan).
  GruPlan Prepare(const torch::Tensor& inp);
  // Returns (net, delta_flow); the mask is computed by Mask when needed (scaled by 0.25).
  std::pair<torch::Tensor, torch::Tensor> Step(const GruPlan& plan, const torch::Tensor& net,
                                               const torch::Tensor& corr, const torch::Tensor& flow,
                                               const torch::Tensor& attention);
  torch::Tensor Mask(const torch::Tensor& net);
  // As UpdateBlock::CountFlops, with the aggregation.
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t times) const;

 private:
  MotionEncoder encoder_{nullptr};
  SepConvGRU gru_{nullptr};
  FlowHead flow_head_{nullptr};
  torch::nn::Sequential mask_{nullptr};
  Aggregate aggregator_{nullptr};
};
TORCH_MODULE(GmaUpdateBlock);

class GmaNetImpl : public torch::nn::Module {
 public:
  explicit GmaNetImpl(int64_t num_heads = 1);
  // As RaftNet::Forward; intermediates->attention is filled too.
  RaftOutput Forward(const torch::Tensor& image1, const torch::Tensor& image2, const RaftForwardOptions& options,
                     RaftIntermediates* intermediates = nullptr);
  // As RaftNet::CountOfficialFlops, with the attention once and the aggregation per iteration.
  FlopCount CountOfficialFlops(int64_t batch, int64_t h, int64_t w, int iters) const;

 private:
  int64_t hidden_dim_ = 128, context_dim_ = 128;
  Encoder fnet_{nullptr}, cnet_{nullptr};
  GmaUpdateBlock update_block_{nullptr};
  Attention att_{nullptr};
};
TORCH_MODULE(GmaNet);

// GMA ('gma') as a FlowModel, randomly initialised until LoadWeights; CPU, eval mode.
std::unique_ptr<FlowModel> CreateGma(int64_t num_heads = 1);

}  // namespace animerun::models
