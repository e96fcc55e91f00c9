// PWC-Net (Sun et al., CVPR 2018) as ported by sniklaus/pytorch-pwc (run.py), in LibTorch.
// Modules are named as run.py names them (netExtractor, netTwo, ..., netRefiner); the
// released weights use "module" where run.py has "net" (moduleExtractor.moduleOne.0.weight),
// so loading maps every "module" to "net" as run.py does, and saving maps it back.
#pragma once

#include <array>

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/common/flop_count.h"
#include "models/common/flow_model.h"

namespace animerun::models {
namespace pwcnet {

// Cost volume with max displacement 4 (81 channels), kernel 1, stride 1: channel
// (dy+4)*9 + (dx+4) at (y, x) is mean over c of one[c,y,x] * two[c,y+dy,x+dx], with two
// zero outside the image. one, two: [B, C, H, W]. The fused CPU kernels of
// models/common/cost_volume.h, with their gradients.
torch::Tensor Correlation(const torch::Tensor& one, const torch::Tensor& two);

// run.py backwarp(): samples input at (x, y) + flow (bilinear, align_corners=True) and
// zeroes every pixel whose sample is not fully inside the image (a ones channel sampled
// alongside must stay > 0.999).
torch::Tensor Backwarp(const torch::Tensor& input, const torch::Tensor& flow);

// Six-level feature pyramid (16, 32, 64, 96, 128, 196 channels at 1/2 .. 1/64).
class ExtractorImpl : public torch::nn::Module {
 public:
  ExtractorImpl();
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  // Counts its convolutions on [batch, 3, h, w]; returns each level's {h, w, channels}.
  std::vector<std::array<int64_t, 3>> CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const;

 private:
  std::vector<torch::nn::Sequential> levels_;
};
TORCH_MODULE(Extractor);

struct DecoderState {
  torch::Tensor flow;  // [B, 2, h, w] (in units of 1/20 px at this level)
  torch::Tensor feat;  // densely connected features
};

// Flow decoder of one level (6 = coarsest); dense connections as in run.py.
class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(int level);
  // previous == nullptr at level 6. raw_corr, when given, receives the cost volume before
  // the leaky ReLU.
  DecoderState forward(const torch::Tensor& one, const torch::Tensor& two, const DecoderState* previous,
                       torch::Tensor* raw_corr = nullptr);
  // Counts the level's work at h x w with `channels`-channel features: the transposed
  // convolutions from the coarser level, the cost volume and the dense convolutions.
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t channels) const;

 private:
  double backwarp_scale_ = 0;  // run.py fltBackwarp: 20 / 2^level, the upsampled flow to pixels
  torch::nn::ConvTranspose2d net_upflow_{nullptr}, net_upfeat_{nullptr};
  std::vector<torch::nn::Sequential> convs_;  // netOne .. netSix
};
TORCH_MODULE(Decoder);

// Context network: dilated convolutions (1, 2, 4, 8, 16, 1, 1) on the level-2 features.
class RefinerImpl : public torch::nn::Module {
 public:
  RefinerImpl();
  torch::Tensor forward(const torch::Tensor& x) { return net_main_->forward(x); }
  void CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w) const {
    count.Sequential("refiner", *net_main_, batch, h, w);
  }

 private:
  torch::nn::Sequential net_main_{nullptr};
};
TORCH_MODULE(Refiner);

}  // namespace pwcnet

struct PwcIntermediates {
  std::vector<torch::Tensor> correlation;  // raw cost volumes, level 6 first, level 2 last
};

class PwcNetImpl : public torch::nn::Module {
 public:
  PwcNetImpl();
  // one, two: BGR float [B, 3, H, W] in [0, 1], H and W multiples of 64. Returns the
  // flow at 1/4 resolution in pixels of the input ((decoder + refiner) * 20). on_step
  // (optional) counts 7 steps: the extractors, the five decoder levels, the refiner.
  torch::Tensor forward(const torch::Tensor& one, const torch::Tensor& two, PwcIntermediates* intermediates = nullptr,
                        const FlowStepFn& on_step = {});
  // The official forward's work on [batch, 3, h, w] (multiples of 64). run.py's cost
  // volume is a CuPy kernel that PyTorch's FlopCounterMode does not see; it is counted
  // here as the 81 x C multiply-adds per position it does ("correlation").
  FlopCount CountOfficialFlops(int64_t batch, int64_t h, int64_t w) const;

 private:
  pwcnet::Extractor net_extractor_{nullptr};
  std::vector<pwcnet::Decoder> decoders_;  // levels 2 .. 6
  pwcnet::Refiner net_refiner_{nullptr};
};
TORCH_MODULE(PwcNet);

// run.py's key mapping: every "module" becomes "net" (official file -> module), and back.
std::string PwcKeyFromOfficial(const std::string& key);
std::string PwcKeyToOfficial(const std::string& key);

// The run.py estimate() pipeline on RGB [0,255] images [B,3,H,W] already on net's device:
// BGR [0,1], bilinear resize to multiples of 64, network, bilinear resize of the flow back
// to H x W with u *= W/W64 and v *= H/H64. network_output / intermediates (optional)
// receive the raw 1/4-resolution output and the cost volumes; on_step as in forward. Call
// under inference mode.
torch::Tensor PwcEstimate(PwcNet& net, const torch::Tensor& image1, const torch::Tensor& image2,
                          torch::Tensor* network_output = nullptr, PwcIntermediates* intermediates = nullptr,
                          const FlowStepFn& on_step = {});

class PwcNetModel : public FlowModel {
 public:
  PwcNetModel();
  std::string name() const override { return "pwc"; }
  // Official file keys (moduleExtractor...) or run.py's renamed ones (netExtractor...).
  LoadReport LoadWeights(const std::string& path, bool strict = true) override;
  // Writes the official key names (moduleExtractor...).
  void SaveWeights(const std::string& path) const override;
  void To(const torch::Device& device) override;
  torch::Device device() const override { return device_; }
  torch::nn::Module& module() override;
  int TrainSizeMultiple() const override { return 1; }
  // PwcEstimate() with autograd: AnimeRun's train_pwc.py supervises only the final flow at
  // the input resolution (its forward returns [flow]).
  std::vector<torch::Tensor> TrainForward(const torch::Tensor& image1, const torch::Tensor& image2,
                                          int iters) override;
  // PwcEstimate() under inference mode, in options.precision (fp32 or bf16); the flow is returned on image1's device.
  torch::Tensor Estimate(const torch::Tensor& image1, const torch::Tensor& image2,
                         const FlowInferenceOptions& options) override;

  FlopCount OfficialFlops(int64_t height, int64_t width, int iters) const override;

  PwcNet& net() { return net_; }

 private:
  PwcNet net_;
  torch::Device device_ = torch::kCPU;
  mutable ModulePrecision precision_;  // bf16 runs keep the fp32 weights aside (SaveWeights restores)
};

std::unique_ptr<FlowModel> CreatePwcNet();

}  // namespace animerun::models
