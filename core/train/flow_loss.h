// The flow networks' training loss, as every AnimeRun trainer (flow/train_*.py, from RAFT's
// train.py) computes it, and the metrics it logs.
#pragma once

#include <optional>
#include <vector>

#include <torch/torch.h>

namespace animerun::train {

struct FlowLossResult {
  torch::Tensor loss;                     // scalar, differentiable
  std::optional<double> epe, px1, px3, px5;  // of the last prediction over supervised pixels (none: no such pixel)
  int64_t supervised = 0;                 // pixels counted by the metrics
};

// sequence_loss: supervised = (valid >= 0.5) & (|gt| < max_flow);
// loss = sum_i gamma^(N-1-i) * mean(supervised * |pred_i - gt|), a mean over all
// B*2*H*W elements (not over the supervised ones), as the original. With one prediction
// (PWC-Net) it is the masked L1 of the final flow. preds: N tensors [B,2,H,W]; gt [B,2,H,W];
// valid [B,H,W].
FlowLossResult SequenceLoss(const std::vector<torch::Tensor>& preds, const torch::Tensor& gt,
                            const torch::Tensor& valid, double gamma, double max_flow = 400.0);

}  // namespace animerun::train
