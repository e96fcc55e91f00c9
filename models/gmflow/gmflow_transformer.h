// GMFlow's feature transformer (haofeixu/gmflow transformer.py, utils.py, position.py):
// sine position encoding per attention window, 6 blocks of self + cross attention with
// (shifted-)window attention, and the flow-propagation self-attention.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "models/common/flop_count.h"

namespace animerun::models::gmflow {

// DETR-style normalised sine encoding for a [h, w] grid, [1, 2*num_pos_feats, h, w]
// (channels: y terms then x terms, each sin/cos interleaved).
torch::Tensor PositionEmbeddingSine(int64_t h, int64_t w, int64_t num_pos_feats, const torch::Device& device);

// Adds the position encoding; with attn_splits > 1 the encoding restarts in every window.
std::pair<torch::Tensor, torch::Tensor> FeatureAddPosition(const torch::Tensor& feature0, const torch::Tensor& feature1,
                                                          int64_t attn_splits, int64_t feature_channels);

// softmax(q @ kt / scale) @ v for q [B, L, C], kt [B, C, S], v [B, S, D]. Processed in
// chunks so that at most about max_scores scores exist at once: whole batch items (windows)
// where one fits, else rows of one item; each row is computed as in one pass. The default,
// 2M scores (8 MiB of fp32), keeps a chunk's scores in the caches between the product that
// writes them, the softmax and the product that reads them: GMFlow-refine's 448-token
// windows run at 114 GFLOP/s on 2 Zen 4 cores against 75 with 32 MiB chunks, 7168-token
// global matching at 134 against 71 (docs/benchmarks.md). It also bounds the memory of large
// frames (the 1/8-scale attention of a 1080p frame would hold several GB).
torch::Tensor SoftmaxAttention(const torch::Tensor& q, const torch::Tensor& kt, const torch::Tensor& v, double scale,
                               int64_t max_scores = int64_t{1} << 21);

// The token bands along one side of n tokens split into num_splits windows: (start, length)
// of each. Unshifted: the windows. Shifted (the official roll by -window/2 with its mask,
// seen in the unrolled map): {0, s, s + m, ..., s + (k-1) m, n} with m = n / k, s = m / 2.
std::vector<std::pair<int64_t, int64_t>> WindowBands(int64_t n, int64_t num_splits, bool with_shift);

// Per-token maps applied to a gathered batch of window tokens [n, L, C]: the query, key and
// value projections (index 0, 1, 2).
using WindowProjection = std::function<torch::Tensor(int index, const torch::Tensor& tokens)>;

// Single-head attention of q, k, v [B, h*w, C] within num_splits x num_splits windows,
// shifted by half a window as the official Swin layers (with_shift), computed within the
// WindowBands rectangles. [B, h*w, C].
//  * project given: q, k, v are the unprojected tokens (k and v may be the same tensor) and
//    project(i, .) is applied to each gathered batch of windows. The projections are per
//    token, so this is the same attention without the three projected maps of the whole
//    frame in memory (inference at the refinement scale).
//  * max_tokens > 0: windows go through in batches of at most about that many tokens
//    (at least one window each), bounding the gathered copies.
torch::Tensor SplitWindowAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   int64_t num_splits, bool with_shift, int64_t h, int64_t w,
                                   const WindowProjection& project = {}, int64_t max_tokens = 0);

// SplitWindowAttention for training: the same rectangles and results through ops whose
// gradients cost one pass over the map. Copying each rectangle into and out of slices (as
// inference does) makes every copy's backward allocate, fill and add a full-size gradient:
// at GMFlow-refine's 1/4 scale (64 windows, 81 rectangles shifted) that was most of a
// training update. Here one index_select gathers the tokens rectangle by rectangle, grouped by
// shape; split gives each shape's batch of windows; one index_select puts the results back.
torch::Tensor SplitWindowAttentionTrain(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                        int64_t num_splits, bool with_shift, int64_t h, int64_t w);

class TransformerLayerImpl : public torch::nn::Module {
 public:
  TransformerLayerImpl(int64_t d_model, bool no_ffn, int64_t ffn_dim_expansion, bool with_shift);
  // source, target: [B, L, C]. Query from source, key and value from target.
  // attn_num_splits > 1: within windows (shifted ones in the layers built with_shift).
  torch::Tensor forward(const torch::Tensor& source, const torch::Tensor& target, int64_t height, int64_t width,
                        int64_t attn_num_splits);
  // The official layer's work on `batch` feature maps of h x w tokens.
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t attn_num_splits) const;

 private:
  // forward outside autograd: the same per-token results with bounded intermediates.
  torch::Tensor ForwardInference(const torch::Tensor& source, const torch::Tensor& target, int64_t height,
                                 int64_t width, int64_t attn_num_splits);

  bool no_ffn_;
  bool with_shift_;
  torch::nn::Linear q_proj_{nullptr}, k_proj_{nullptr}, v_proj_{nullptr}, merge_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(TransformerLayer);

class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int64_t d_model, int64_t ffn_dim_expansion, bool with_shift);
  // source by value: a caller that moves it in lets it go once the self-attention is done, a
  // whole map less during the cross-attention (33 MB at GMFlow-refine's 960x540 scale).
  torch::Tensor forward(torch::Tensor source, const torch::Tensor& target, int64_t height, int64_t width,
                        int64_t attn_num_splits);
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t attn_num_splits) const;

 private:
  TransformerLayer self_attn_{nullptr};
  TransformerLayer cross_attn_ffn_{nullptr};
};
TORCH_MODULE(TransformerBlock);

class FeatureTransformerImpl : public torch::nn::Module {
 public:
  FeatureTransformerImpl(int64_t num_layers, int64_t d_model, int64_t ffn_dim_expansion);
  // feature0, feature1: [B,C,H,W]; returns both after the transformer, same shape.
  // after_layer (optional) runs after each block (progress; it may throw to abort).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& feature0, const torch::Tensor& feature1,
                                                  int64_t attn_num_splits,
                                                  const std::function<void()>& after_layer = {});
  // The official transformer on B pairs of h x w maps (it runs both directions as one
  // batch of 2B, as here).
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t attn_num_splits) const;

 private:
  int64_t d_model_;
  torch::nn::ModuleList layers_{nullptr};
};
TORCH_MODULE(FeatureTransformer);

// Flow propagation: attention over feature0 (query/key) applied to the flow (value),
// global (radius <= 0) or within a (2r+1)^2 window.
class FeatureFlowAttentionImpl : public torch::nn::Module {
 public:
  explicit FeatureFlowAttentionImpl(int64_t in_channels);
  torch::Tensor forward(const torch::Tensor& feature0, const torch::Tensor& flow, int64_t local_window_radius);
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t local_window_radius) const;

 private:
  torch::Tensor ForwardLocal(const torch::Tensor& feature0, const torch::Tensor& flow, int64_t radius);
  torch::nn::Linear q_proj_{nullptr}, k_proj_{nullptr};
};
TORCH_MODULE(FeatureFlowAttention);

}  // namespace animerun::models::gmflow
