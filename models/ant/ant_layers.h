// The building blocks of AnT as AnimeRun implements it (segmat/models/superglue_softmax.py,
// a SuperGlue derivative): the full-resolution CNN encoder, superpixel mean pooling, the
// bounding-box positional encoder and the attentional GNN. Submodule names follow the
// official state dict (segment_desc.encoder.layer1, kenc.encoder.0, gnn.layers.3.attn.proj.1,
// gnn.layers.3.mlp.3, ...). All norms are InstanceNorm without affine parameters or running
// statistics, so they hold no state and are applied functionally.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/common/flop_count.h"
#include "models/common/module_precision.h"

namespace animerun::models {

// A 1x1 Conv1d, x [B, in, N] -> [B, out, N] = W x + b, as one matrix product with the bias
// added by the same call. LibTorch sends Conv1d through oneDNN's convolution, whose per-call
// set-up costs more than the product at AnT's few hundred segments.
torch::Tensor PointwiseConv1d(const torch::nn::Conv1dImpl& conv, const torch::Tensor& x);

// MLP(channels) of the original: Conv1d(k=1) layers; every layer but the last is followed by
// InstanceNorm1d (over the N points, eps 1e-5) and ReLU. The convolutions are registered as
// "0", "3", "6", ... like the nn.Sequential indices of the original (norm and ReLU take
// the indices in between).
class AntMlpImpl : public torch::nn::Module {
 public:
  explicit AntMlpImpl(const std::vector<int64_t>& channels);
  torch::Tensor forward(const torch::Tensor& x);  // [B, channels[0], N] -> [B, channels.back(), N]
  // Inference on two frames' points side by side, x [1, channels[0], n0 + n1]: each
  // InstanceNorm over its own frame's n0 or n1 points, as forward on each frame.
  torch::Tensor ForwardPair(const torch::Tensor& x, int64_t n0);
  torch::nn::Conv1d& last() { return convs_.back(); }
  void CountFlops(FlopCount& count, const std::string& part, int64_t batch, int64_t points) const;

 private:
  std::vector<torch::nn::Conv1d> convs_;
};
TORCH_MODULE(AntMlp);

// InstanceNorm without affine parameters over every dimension after the channel one
// (eps 1e-5, biased variance), optionally followed by ReLU. Works on channels-last input
// without the copy to contiguous that torch::instance_norm makes, and in place when no
// gradient is needed.
torch::Tensor AntInstanceNorm(torch::Tensor x, bool relu);

// ThreeLayerEncoder: conv 7x7 (3 -> d/4, pad 3) -> IN -> ReLU -> conv 3x3 (-> d/2, pad 1)
// -> IN -> ReLU -> conv 3x3 (-> d, pad 1) -> IN. Full resolution, no stride.
class AntEncoderImpl : public torch::nn::Module {
 public:
  explicit AntEncoderImpl(int64_t enc_dim);
  // The output of layer3 before its InstanceNorm (norm3); forward applies norm3 to it.
  torch::Tensor forward_before_norm3(const torch::Tensor& img);
  torch::Tensor forward(const torch::Tensor& img);
  // SegmentMeanPool(forward(img), segments, num_segments) [B, C, N]. In fp32 CPU inference
  // of one image, layer3's output is summed per segment and channel in double and norm3 is
  // applied to the pooled means (the same values, without normalising and reading the
  // full-resolution map again): with oneDNN's Winograd, layer2 to layer3 stay in channel
  // blocks and layer3's output is summed from them; else the sums come straight from
  // WinogradConv3x3's output transform.
  torch::Tensor SegmentMeans(const torch::Tensor& img, const torch::Tensor& segments, int64_t num_segments);
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const;
  // How layer2 and layer3 (3x3) run in fp32 CPU inference of one image (autograd, bf16,
  // batches and GPUs always take LibTorch's convolutions). Tests compare the three.
  enum class Convolutions {
    kLibTorch,     // LibTorch's (oneDNN's direct kernels)
    kWinograd2x2,  // WinogradConv3x3, F(2x2, 3x3), layer3 pooled from its output transform
    kBest,         // oneDNN's F(4x4, 3x3) in channel blocks where available (SegmentMeans), else
                   // kWinograd2x2
  };
  void UseConvolutions(Convolutions c) { convolutions_ = c; }
  // Switches the encoder between fp32 and bf16 through `precision` (the owner's; it keeps
  // the fp32 weights). bf16 converts layer1 only where oneDNN's fp32 Winograd runs layer2 and
  // layer3 (kBest, SegmentMeans): faster than their bf16 direct convolutions (40 + 175 ms
  // against 75 + 230 ms per 960x540 frame on 2 Zen 4 cores); there, on CPUs with AVX-512
  // BF16, layer3's products run in bf16 too (Bf16WinogradConv3x3Bands: 67-74 ms against
  // oneDNN's fp32 183 ms). Elsewhere the whole encoder.
  void UsePrecision(ModulePrecision& precision, const std::string& name);

 private:
  torch::Tensor Layer1AndNorm1(const torch::Tensor& img);       // in the encoder's dtype
  torch::Tensor ForwardBeforeLayer3(const torch::Tensor& img);  // layer1, norm1, layer2, norm2
  torch::Tensor Layer3AndNorm3(const torch::Tensor& x);         // layer3 then norm3 in fp32
  bool WinogradApplies(const torch::nn::Conv2d& layer, const torch::Tensor& x) const;
  // Whether oneDNN's Winograd in channel blocks can run layer2 and layer3 (kBest, kernels
  // available, shapes): SegmentMeans takes it, and bf16 then converts layer1 only.
  bool OneDnnLayersApply() const;
  // In SegmentMeans' channel-block path: whether layer3's products run in bf16
  // (Bf16WinogradConv3x3Bands, transforms and sums in fp32). There, layer1 in bf16 is what
  // UsePrecision("bf16") left; the CPU needs AVX-512 BF16.
  bool Layer3ProductsInBf16() const;
  torch::Tensor Conv3x3(torch::nn::Conv2d& layer, const torch::Tensor& x);

  torch::nn::Conv2d layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr};
  Convolutions convolutions_ = Convolutions::kBest;
};
TORCH_MODULE(AntEncoder);

// Mean of features [B, C, H, W] over each segment of segments [B, H, W] (ids 0..n-1):
// [B, C, n]. One scatter-add pass and a bincount, no per-segment loop. A segment without
// pixels gets 0 (torch_scatter's mean does the same). counts_out, when given, receives the
// pixel count of every segment [B, n] in the features' dtype.
torch::Tensor SegmentMeanPool(const torch::Tensor& features, const torch::Tensor& segments, int64_t num_segments,
                              torch::Tensor* counts_out = nullptr);

// SegmentDescriptor: the encoder followed by superpixel mean pooling -> [B, d, n].
class AntSegmentDescriptorImpl : public torch::nn::Module {
 public:
  explicit AntSegmentDescriptorImpl(int64_t enc_dim);
  torch::Tensor forward(const torch::Tensor& img, const torch::Tensor& segments, int64_t num_segments);
  // The encoder's convolutions (the pooling is a scatter, no multiply-adds).
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const { encoder_->CountFlops(count, batch, h, w); }
  // AntEncoderImpl::UsePrecision.
  void UsePrecision(ModulePrecision& precision, const std::string& name) { encoder_->UsePrecision(precision, name); }

 private:
  AntEncoder encoder_{nullptr};
};
TORCH_MODULE(AntSegmentDescriptor);

// KeypointEncoder: MLP [4, layers..., feature_dim] on normalised boxes [B, N, 4] -> [B, d, N].
class AntKeypointEncoderImpl : public torch::nn::Module {
 public:
  AntKeypointEncoderImpl(int64_t feature_dim, const std::vector<int64_t>& layers);
  torch::Tensor forward(const torch::Tensor& kpts);
  void CountFlops(FlopCount& count, int64_t batch, int64_t points) const {
    encoder_->CountFlops(count, "box encoder", batch, points);
  }

 private:
  AntMlp encoder_{nullptr};
};
TORCH_MODULE(AntKeypointEncoder);

// SuperGlue's MultiHeadedAttention: proj.0/1/2 (q, k, v) and merge, all Conv1d(d, d, 1).
// Channels are split into heads as view(B, d / heads, heads, N): channel c belongs to head
// c % heads. Scores are divided by sqrt(d / heads).
class AntMultiHeadedAttentionImpl : public torch::nn::Module {
 public:
  AntMultiHeadedAttentionImpl(int64_t num_heads, int64_t d_model);
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value);
  // Inference on both frames at once: x [1, d, n0 + n1] holds frame 0's n0 descriptors then
  // frame 1's. Frame 0 attends to frame 1 and frame 1 to frame 0 when `cross`, each to
  // itself otherwise; returns both frames' messages [1, d, n0 + n1]. The projections run as
  // one product over both frames (the same values as forward per frame, in a third of the
  // calls).
  torch::Tensor ForwardPair(const torch::Tensor& x, int64_t n0, bool cross);
  // queries attending to `sources` points.
  void CountFlops(FlopCount& count, int64_t batch, int64_t queries, int64_t sources) const;

 private:
  int64_t num_heads_, dim_;
  torch::nn::Conv1d merge_{nullptr};
  torch::nn::ModuleList proj_{nullptr};
  std::vector<torch::nn::Conv1d> proj_convs_;
};
TORCH_MODULE(AntMultiHeadedAttention);

// AttentionalPropagation: message = attn(x, source, source); mlp([2d, 2d, d]) on [x, message].
class AntAttentionalPropagationImpl : public torch::nn::Module {
 public:
  AntAttentionalPropagationImpl(int64_t feature_dim, int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& source);
  // Inference on both frames at once (AntMultiHeadedAttentionImpl::ForwardPair): the deltas
  // of frames 0 and 1 [1, d, n0 + n1].
  torch::Tensor ForwardPair(const torch::Tensor& x, int64_t n0, bool cross);
  void CountFlops(FlopCount& count, int64_t batch, int64_t points, int64_t sources) const;

 private:
  AntMultiHeadedAttention attn_{nullptr};
  AntMlp mlp_{nullptr};
};
TORCH_MODULE(AntAttentionalPropagation);

// AttentionalGNN: layers alternate 'self' and 'cross'; both descriptor sets are updated
// from the previous layer's values (desc += layer(desc, source)).
class AntAttentionalGnnImpl : public torch::nn::Module {
 public:
  AntAttentionalGnnImpl(int64_t feature_dim, const std::vector<bool>& cross_layers, int64_t num_heads);
  std::pair<torch::Tensor, torch::Tensor> forward(torch::Tensor desc0, torch::Tensor desc1);
  size_t num_layers() const { return cross_.size(); }
  void CountFlops(FlopCount& count, int64_t batch, int64_t n0, int64_t n1) const;

 private:
  std::vector<bool> cross_;  // per layer: true = 'cross', false = 'self'
  torch::nn::ModuleList layers_{nullptr};
  std::vector<AntAttentionalPropagation> layer_refs_;
};
TORCH_MODULE(AntAttentionalGnn);

}  // namespace animerun::models
