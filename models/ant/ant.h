// AnT, the Animation Transformer, as AnimeRun reimplemented it: SuperGlueSoftMax of
// lisiyao21/AnimeRun segmat/models/superglue_softmax.py, in LibTorch. Segments are the
// "keypoints": each gets the mean of full-resolution CNN features over its pixels plus an
// MLP encoding of its normalised bounding box; 12 x (self, cross) attention layers; scores
// <d0, d1> / sqrt(d) with one learnable dustbin score; a row softmax and argmax predict the
// match (the dustbin column means -1). Parameter names equal the official state dict keys
// once 'module.' is stripped (bin_score, kenc.encoder.0.weight, gnn.layers.0.attn.merge.bias,
// final_proj.weight, segment_desc.encoder.layer1.weight, ...).
//
// Training needs nothing else from the network: Forward is differentiable and returns the
// raw score matrix; AntMatchingLoss is the official loss on it (optionally area-weighted,
// AntAreaWeights); AntSegmentBoxes gives the dataset's keypoints and pixel counts;
// SaveAntWeights / LoadAntWeights write and read the official checkpoint layout.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/ant/ant_layers.h"
#include "models/common/checkpoint.h"
#include "models/common/flop_count.h"
#include "models/common/module_precision.h"

namespace animerun::models {

// segmat/configs/superglue_softmax_anime.yaml (model section).
struct AntConfig {
  int64_t descriptor_dim = 128;                      // feature width d everywhere
  std::vector<int64_t> keypoint_encoder = {32, 64, 128};  // hidden widths of the box MLP (4 -> ... -> d)
  int gnn_layer_num = 12;                            // (self, cross) pairs: 2 * this attention layers
  int num_heads = 4;                                 // attention heads (fixed to 4 in the original)
  void Check() const;                                // throws std::invalid_argument
};

// One frame as the official dataset hands it to the model (batch size 1).
struct AntFrame {
  torch::Tensor image;      // [1, 3, H, W] float, RGB mapped to [-1, 1] (NormalizeAntImage)
  torch::Tensor segments;   // [1, H, W] (or [H, W]) integer segment ids 0..N-1
  torch::Tensor keypoints;  // [1, N, 4] boxes in pixels: xmin, xmax, ymin, ymax (any numeric dtype)
  // Optional [1, d, N]: this frame's pooled encoder features as SegmentDescriptors returns
  // them. Forward then uses them instead of running the encoder (training with a frozen
  // encoder computes them once per frame); image still gives the frame size.
  torch::Tensor descriptors;
};

struct AntOutput {
  torch::Tensor scores;                        // raw [1, N0+1, N1+1] incl. dustbin row/column, before softmax
  torch::Tensor segment_desc0, segment_desc1;  // pooled encoder features [1, d, N] (before the box encoding)
};

// What the official forward derives from the scores.
struct AntPrediction {
  torch::Tensor probabilities;     // softmax(scores, dim=2) [B, N0+1, N1+1]
  torch::Tensor matches0;          // int64 [B, N0]: argmax over the N1+1 columns; the dustbin is -1
  torch::Tensor matching_scores0;  // [B, N0]: the row maximum of probabilities
  torch::Tensor matches1;          // int64 [B, N1]: argmax over the N0+1 rows of each column; -1 = dustbin
};

// The official dataset's image normalisation: RGB in [0, 255] (uint8 or float, [B, 3, H, W]
// or [H, W, 3]) -> float [B, 3, H, W] = x * 2 / 255 - 1.
torch::Tensor NormalizeAntImage(const torch::Tensor& rgb);

// normalize_keypoints: boxes [B, N, 4] in pixels -> (k - [w, w, h, h] / 2) / (0.7 * max(w, h)).
torch::Tensor NormalizeAntKeypoints(const torch::Tensor& kpts, int64_t height, int64_t width);

// transport(): scores [B, M, N] padded with a last column, last row and corner all equal to
// bin_score -> [B, M+1, N+1].
torch::Tensor AppendDustbin(const torch::Tensor& scores, const torch::Tensor& bin_score);

// Row softmax, argmax and max as in the official forward.
AntPrediction PredictAntMatches(const torch::Tensor& scores);

// The dataset's keypoints of one label map: segments [H, W] or [1, H, W] with integer ids
// 0..n-1 -> int64 [n, 4] = xmin, xmax, ymin, ymax (pixel indices, inclusive), as
// AnimeSegMatDataset computes them (one pass over the pixels, no per-segment loop). An id
// without pixels gets [0, 0, 0, 0] (the official dataset would fail on it). counts_out,
// when given, receives the pixel count of every id, int64 [n] (the dataset's num0/num1).
torch::Tensor AntSegmentBoxes(const torch::Tensor& segments, int64_t n, torch::Tensor* counts_out = nullptr);

// Training loss on the raw scores [B, N0+1, N1+1] against all_matches [B, N0] (ids in
// frame 1, -1 -> the dustbin column N1); per segment i the row cross-entropy
// ce_i = -log softmax(scores[b, i, :])[target_i] (the dustbin row is not a target).
//  * weights undefined: mean of ce_i over all B * N0 segments (the official code's loss).
//  * weights [B, N0] (e.g. AntAreaWeights): sum_i w_i * ce_i per pair, mean over the batch;
//    with w_i = |S_i| / (H * W) this is the area-weighted loss of the AnT supplementary.
// Differentiable with respect to scores.
torch::Tensor AntMatchingLoss(const torch::Tensor& scores, const torch::Tensor& all_matches,
                              const torch::Tensor& weights = {});

// w_i = |S_i| / (H * W) from pixel counts [B, N0] (or [N0]) -> float [B, N0].
torch::Tensor AntAreaWeights(const torch::Tensor& counts, int64_t height, int64_t width);

class AntNetImpl : public torch::nn::Module {
 public:
  explicit AntNetImpl(const AntConfig& config = {});

  // Both frames need N >= 2 segments (the official forward skips the model below that and
  // predicts -1 everywhere; InstanceNorm over one point is undefined); each frame's
  // segments must have its image's size and ids < N. Throws std::invalid_argument
  // otherwise. Differentiable; run under InferenceMode for inference.
  AntOutput Forward(const AntFrame& frame0, const AntFrame& frame1);
  // The encoder's pooled features of one frame, [1, d, N] (what Forward adds the box
  // encoding to). Checks the frame as Forward does.
  torch::Tensor SegmentDescriptors(const AntFrame& frame);

  // The official forward's work on two h x w frames with n0 and n1 segments (FlopCount).
  FlopCount CountOfficialFlops(int64_t h, int64_t w, int64_t n0, int64_t n1) const;
  const AntConfig& config() const { return config_; }
  const torch::Tensor& bin_score() const { return bin_score_; }

  // Inference: "bf16" runs the encoder's convolutions (95% of AnT's work at 960x540) in bf16,
  // for CPUs with AVX-512 BF16 or AMX and for GPUs; the instance norm after its last layer, the
  // pooling, the attention and the scores stay fp32. "fp32" puts the fp32 weights back (do so
  // before loading or saving weights). std::invalid_argument for other names.
  void UseEncoderPrecision(const std::string& precision);

 private:
  AntConfig config_;
  ModulePrecision encoder_precision_;
  AntKeypointEncoder kenc_{nullptr};
  AntAttentionalGnn gnn_{nullptr};
  torch::nn::Conv1d final_proj_{nullptr};
  torch::Tensor bin_score_;
  AntSegmentDescriptor segment_desc_{nullptr};
};
TORCH_MODULE(AntNet);

// Loads an AnimeRun AnT checkpoint ({'model': state dict of nn.DataParallel(model),
// 'config': EasyDict or dict, 'epoch': int}; a bare state dict works too) through the safe
// reader. With strict, missing/unexpected/mis-shaped keys throw std::runtime_error naming
// the file and the keys.
LoadReport LoadAntWeights(AntNetImpl& net, const std::string& path, bool strict = true);
// Saves the weights as the official segmat checkpoint layout, {'model': state dict} with the
// 'module.' prefix of nn.DataParallel (what segmat's test code reads as checkpoint['model'];
// loadable by LoadAntWeights).
void SaveAntWeights(const AntNetImpl& net, const std::string& path);

}  // namespace animerun::models
