// RAFT and RAFT-small (princeton-vl/RAFT core/raft.py) in LibTorch, with parameter names
// that match the official checkpoints after the 'module.' prefix is stripped.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "models/common/corr_on_demand.h"
#include "models/common/flow_model.h"
#include "models/raft/extractor.h"
#include "models/raft/update.h"

namespace animerun::models {

// The arguments of the official forward(image1, image2, iters, flow_init, upsample, test_mode).
struct RaftForwardOptions {
  int iters = 12;                // refinement iterations
  torch::Tensor flow_init;       // optional warm start [B, 2, H/8, W/8] added to coords1
  bool all_predictions = false;  // test_mode=False: upsample after every iteration
  FlowStepFn on_step;            // optional: called with (k, iters) after iteration k; false aborts
                                 // with EstimateCancelled (GMA uses these options too)
  FlowPreviewFn on_preview;      // optional: the estimate after iteration k < iters, upsampled on demand
  double early_stop_px = 0;      // > 0: stop after the iteration whose mean |update| (in input pixels,
                                 // 8x the 1/8-scale step) is below this; its flow is the result
  CorrMode corr = CorrMode::kAuto;  // all-pairs volume or on-demand correlation (corr_on_demand.h)
};

// What the parity tests compare besides the flows; filled when a pointer is passed.
struct RaftIntermediates {
  torch::Tensor fmap1, fmap2;  // fnet outputs [B, 256 (small 128), H/8, W/8]
  torch::Tensor cnet;          // cnet output before split/tanh/relu
  torch::Tensor corr_iter0;    // correlation lookup of the first iteration
  torch::Tensor attention;     // GMA only: softmax attention [B, heads, hw, hw]
};

struct RaftOutput {
  std::vector<torch::Tensor> flow_predictions;  // [B, 2, H, W] after every iteration (all_predictions)
  torch::Tensor flow_low;                        // coords1 - coords0 at 1/8 resolution (test_mode first output)
  torch::Tensor flow_up;                         // last upsampled flow [B, 2, H, W] (test_mode second output)
};

class CorrLookup;

// One update step: (hidden state, correlation, current flow), in the update operator's
// dtype and layout -> (new hidden state, flow delta).
using RaftStepFn = std::function<std::pair<torch::Tensor, torch::Tensor>(
    const torch::Tensor& net, const torch::Tensor& corr, const torch::Tensor& flow)>;
// The 1/8 flow (fp32) upsampled to full resolution, given the hidden state (convex mask).
using RaftUpsampleFn = std::function<torch::Tensor(const torch::Tensor& flow_low, const torch::Tensor& net)>;

// The refinement loop RAFT and GMA share (the official forward after the encoders): coords1
// from flow_init (checked, named after `name`), options.iters steps with the correlation
// lookup and coordinates in fp32, and only the last flow upsampled unless all_predictions.
RaftOutput RunRaftRefinement(const std::string& name, const CorrLookup& corr_fn, torch::Tensor net, int64_t batch,
                             int64_t h8, int64_t w8, torch::ScalarType dtype, const RaftForwardOptions& options,
                             RaftIntermediates* intermediates, const RaftStepFn& step,
                             const RaftUpsampleFn& upsample);

// Convex upsampling of the original (mask [B, 576, h, w] already scaled by 0.25).
torch::Tensor ConvexUpsample(const torch::Tensor& flow, const torch::Tensor& mask);
// upflow8: 8 * bilinear (align_corners=True) resize to 8x (RAFT-small).
torch::Tensor UpFlow8(const torch::Tensor& flow);
// The layout the update operator runs in: channels-last on CPU (faster oneDNN
// convolutions), contiguous elsewhere.
torch::Tensor UpdateLayout(const torch::Tensor& t);
// 2 * (x / 255) - 1, as the official forward normalises its input.
torch::Tensor NormalizeRaftImage(const torch::Tensor& image);

class RaftNetImpl : public torch::nn::Module {
 public:
  explicit RaftNetImpl(bool small);

  // image1, image2: [B, 3, H, W] float RGB in [0, 255], H and W multiples of 8. Like the
  // original, the result is NaN unless H, W >= 128 (the coarsest correlation level needs
  // two pixels); FlowModel::Estimate pads to that size. Call under InferenceMode.
  RaftOutput Forward(const torch::Tensor& image1, const torch::Tensor& image2, const RaftForwardOptions& options,
                     RaftIntermediates* intermediates = nullptr);

  // The official forward's work (test mode: the mask and upsampling in every iteration) on
  // [batch, 3, h, w] images, h and w padded to multiples of 8 (FlopCount).
  FlopCount CountOfficialFlops(int64_t batch, int64_t h, int64_t w, int iters) const;

  bool small() const { return small_; }
  int64_t hidden_dim() const { return hidden_dim_; }
  int64_t context_dim() const { return context_dim_; }
  int corr_levels() const { return 4; }
  int corr_radius() const { return small_ ? 3 : 4; }

 private:
  bool small_;
  int64_t hidden_dim_, context_dim_;
  Encoder fnet_{nullptr}, cnet_{nullptr};
  UpdateBlock update_block_{nullptr};
};
TORCH_MODULE(RaftNet);

// RAFT (small = false: 'raft') or RAFT-small ('raft-small') as a FlowModel, randomly
// initialised until LoadWeights; on CPU in eval mode.
std::unique_ptr<FlowModel> CreateRaft(bool small = false);

}  // namespace animerun::models
