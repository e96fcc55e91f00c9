#include "core/train/flow_loss.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/util/error.h"

namespace animerun::train {

FlowLossResult SequenceLoss(const std::vector<torch::Tensor>& preds, const torch::Tensor& gt,
                            const torch::Tensor& valid, double gamma, double max_flow) {
  Require(!preds.empty(), "sequence loss: no predictions");
  Require(gt.dim() == 4 && gt.size(1) == 2, "sequence loss: ground truth must be [B, 2, H, W]");
  Require(valid.dim() == 3 && valid.size(0) == gt.size(0) && valid.size(1) == gt.size(2) && valid.size(2) == gt.size(3),
          "sequence loss: valid must be [B, H, W] matching the flow");
  const int64_t n = static_cast<int64_t>(preds.size());
  const auto gt32 = gt.to(torch::kFloat);
  const auto mag = gt32.pow(2).sum(1).sqrt();
  const auto supervised = valid.to(torch::kFloat).ge(0.5).logical_and(mag.lt(max_flow));
  const auto weight = supervised.unsqueeze(1).to(torch::kFloat);
  FlowLossResult r;
  r.loss = torch::zeros({}, gt32.options());
  for (int64_t i = 0; i < n; ++i) {
    const auto& p = preds[i];
    Require(p.sizes() == gt.sizes(), "sequence loss: prediction " + std::to_string(i) + " is " + c10::str(p.sizes()) +
                                         ", ground truth " + c10::str(gt.sizes()));
    const double w = std::pow(gamma, static_cast<double>(n - i - 1));
    r.loss = r.loss + w * (weight * (p.to(torch::kFloat) - gt32).abs()).mean();
  }
  torch::NoGradGuard no_grad;
  const auto epe = (preds.back().detach().to(torch::kFloat) - gt32).pow(2).sum(1).sqrt().masked_select(supervised);
  r.supervised = epe.numel();
  if (r.supervised > 0) {
    r.epe = epe.mean().item<double>();
    r.px1 = epe.lt(1).to(torch::kFloat).mean().item<double>();
    r.px3 = epe.lt(3).to(torch::kFloat).mean().item<double>();
    r.px5 = epe.lt(5).to(torch::kFloat).mean().item<double>();
  }
  return r;
}

}  // namespace animerun::train
