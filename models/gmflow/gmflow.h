// GMFlow (Xu et al., CVPR 2022; haofeixu/gmflow) in LibTorch: the 1/8-scale model and
// the two-scale "with refinement" variant. Module and parameter names follow the official
// state dict ({'model': OrderedDict}, no prefix), so released checkpoints load by name.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/common/flow_model.h"
#include "models/gmflow/gmflow_backbone.h"
#include "models/gmflow/gmflow_transformer.h"

namespace animerun::models {

struct GmflowConfig {
  int num_scales = 1;              // 1: matching at 1/8; 2: plus refinement at 1/4
  int upsample_factor = 8;         // convex upsampling of the last scale (8, or 4 with refinement)
  int feature_channels = 128;      // backbone / transformer width
  int num_transformer_layers = 6;  // self+cross attention blocks
  int ffn_dim_expansion = 4;       // MLP hidden width = 2 * feature_channels * this
  std::vector<int> attn_splits_list = {2};   // swin windows per side, per scale (1 = full attention)
  std::vector<int> corr_radius_list = {-1};  // -1 global matching, r > 0 local (2r+1)^2 window
  std::vector<int> prop_radius_list = {-1};  // -1 global flow propagation, r > 0 local window
  int padding_factor = 16;         // inputs are replicate-padded to a multiple of this (16, or 32 with refinement)

  // The official configurations: GMFlow (refine=false) and GMFlow with refinement.
  static GmflowConfig Official(bool refine);
  void Check() const;  // throws std::invalid_argument on inconsistent values
};

// Optional outputs of one forward pass, for parity tests and debugging.
struct GmflowIntermediates {
  std::vector<torch::Tensor> backbone;           // CNN outputs, high -> low resolution, [2B, C, h, w] ([img0; img1])
  std::vector<torch::Tensor> transformer0;       // per scale: transformer output feature0
  std::vector<torch::Tensor> transformer1;       // per scale: transformer output feature1
  std::vector<torch::Tensor> matching_flow;      // per scale: flow (residual for scale > 0) from matching
  std::vector<torch::Tensor> flow_after_prop;    // per scale: low-resolution flow after propagation
};

class GmflowNetImpl : public torch::nn::Module {
 public:
  explicit GmflowNetImpl(const GmflowConfig& config);
  // img0, img1: RGB float [B, 3, H, W] in [0, 255], H and W divisible by the padding factor.
  // Returns the final convex-upsampled flow [B, 2, H, W] (the eval-mode flow_preds[-1]).
  // on_step (optional) counts Steps() steps: the backbone, then per scale each transformer
  // block and the matching/propagation (with the upsampling after the last scale).
  // train_predictions (optional) receives what the official training-mode forward returns
  // in flow_preds: per scale the bilinearly upsampled matching flow, then the propagated
  // flow (bilinear except at the last scale, whose convex-upsampled flow is the result).
  torch::Tensor forward(const torch::Tensor& img0, const torch::Tensor& img1,
                        GmflowIntermediates* intermediates = nullptr, const FlowStepFn& on_step = {},
                        std::vector<torch::Tensor>* train_predictions = nullptr);
  // The official forward's work (eval mode) on [batch, 3, h, w], h and w padded (FlopCount).
  FlopCount CountOfficialFlops(int64_t batch, int64_t h, int64_t w) const;
  const GmflowConfig& config() const { return config_; }
  // 1 + (num_transformer_layers + 1) * num_scales: 8 (GMFlow), 15 (with refinement).
  int Steps() const { return 1 + (config_.num_transformer_layers + 1) * config_.num_scales; }

 private:
  torch::Tensor UpsampleFlow(const torch::Tensor& flow, const torch::Tensor& feature);

  GmflowConfig config_;
  gmflow::CnnEncoder backbone_{nullptr};
  gmflow::FeatureTransformer transformer_{nullptr};
  gmflow::FeatureFlowAttention feature_flow_attn_{nullptr};
  torch::nn::Sequential upsampler_{nullptr};
};
TORCH_MODULE(GmflowNet);

class GmflowModel : public FlowModel {
 public:
  explicit GmflowModel(const GmflowConfig& config);
  std::string name() const override;
  LoadReport LoadWeights(const std::string& path, bool strict = true) override;
  void SaveWeights(const std::string& path) const override;
  void To(const torch::Device& device) override;
  torch::Device device() const override { return device_; }
  torch::nn::Module& module() override;
  int TrainSizeMultiple() const override { return net_->config().padding_factor; }
  std::vector<torch::Tensor> TrainForward(const torch::Tensor& image1, const torch::Tensor& image2,
                                          int iters) override;
  // Pads (options.padding: "sintel" or "kitti"), runs in options.precision (fp32 or bf16), unpads. The flow is
  // returned on image1's device.
  torch::Tensor Estimate(const torch::Tensor& image1, const torch::Tensor& image2,
                         const FlowInferenceOptions& options) override;

  FlopCount OfficialFlops(int64_t height, int64_t width, int iters) const override;

  GmflowNet& net() { return net_; }

 private:
  GmflowNet net_;
  torch::Device device_ = torch::kCPU;
  mutable ModulePrecision precision_;  // bf16 runs keep the fp32 weights aside (SaveWeights restores)
};

// GMFlow with the official default configuration; refine selects the two-scale variant.
std::unique_ptr<FlowModel> CreateGmflow(bool refine);

}  // namespace animerun::models
