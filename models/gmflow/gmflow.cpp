#include "models/gmflow/gmflow.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/common/input_padder.h"
#include "models/gmflow/gmflow_matching.h"

namespace animerun::models {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

GmflowConfig GmflowConfig::Official(bool refine) {
  GmflowConfig c;
  if (refine) {
    c.num_scales = 2;
    c.upsample_factor = 4;
    c.attn_splits_list = {2, 8};
    c.corr_radius_list = {-1, 4};
    c.prop_radius_list = {-1, 1};
    c.padding_factor = 32;
  }
  return c;
}

void GmflowConfig::Check() const {
  auto fail = [](const std::string& m) { throw std::invalid_argument("gmflow config: " + m); };
  if (num_scales < 1 || num_scales > 4) fail("num_scales must be 1..4, got " + std::to_string(num_scales));
  if (upsample_factor < 1) fail("upsample_factor must be >= 1");
  if (feature_channels < 2 || feature_channels % 2 != 0) fail("feature_channels must be even and positive");
  if (num_transformer_layers < 0) fail("num_transformer_layers must be >= 0");
  if (ffn_dim_expansion < 1) fail("ffn_dim_expansion must be >= 1");
  if (padding_factor < 1) fail("padding_factor must be >= 1");
  const size_t n = static_cast<size_t>(num_scales);
  if (attn_splits_list.size() != n || corr_radius_list.size() != n || prop_radius_list.size() != n)
    fail("attn_splits_list, corr_radius_list and prop_radius_list need one entry per scale");
  for (size_t i = 0; i < n; ++i) {
    if (attn_splits_list[i] < 1) fail("attn_splits must be >= 1");
    if (corr_radius_list[i] != -1 && corr_radius_list[i] < 1) fail("corr_radius must be -1 (global) or >= 1");
    if (prop_radius_list[i] != -1 && prop_radius_list[i] < 1) fail("prop_radius must be -1 (global) or >= 1");
  }
}

GmflowNetImpl::GmflowNetImpl(const GmflowConfig& config) : config_(config) {
  config_.Check();
  const int64_t c = config_.feature_channels;
  backbone_ = register_module("backbone", gmflow::CnnEncoder(c, config_.num_scales));
  transformer_ = register_module("transformer",
                                 gmflow::FeatureTransformer(config_.num_transformer_layers, c, config_.ffn_dim_expansion));
  feature_flow_attn_ = register_module("feature_flow_attn", gmflow::FeatureFlowAttention(c));
  const int64_t k = config_.upsample_factor;
  upsampler_ = register_module("upsampler", nn::Sequential(TrainConv2d(nn::Conv2dOptions(2 + c, 256, 3).padding(1)),
                                                           nn::ReLU(), nn::Conv2d(nn::Conv2dOptions(256, k * k * 9, 1))));
}

namespace {

// upsample_flow(..., bilinear=True): align_corners bilinear resize times the factor.
torch::Tensor BilinearUpsampleFlow(const torch::Tensor& flow, int64_t factor) {
  return F::interpolate(flow.to(torch::kFloat), F::InterpolateFuncOptions()
                                                   .size(std::vector<int64_t>{flow.size(2) * factor, flow.size(3) * factor})
                                                   .mode(torch::kBilinear)
                                                   .align_corners(true)) *
         static_cast<double>(factor);
}

}  // namespace

torch::Tensor GmflowNetImpl::UpsampleFlow(const torch::Tensor& flow, const torch::Tensor& feature) {
  // Convex combination of the 3x3 neighbourhood; unlike RAFT the mask is not scaled by 0.25.
  const int64_t k = config_.upsample_factor;
  const int64_t b = flow.size(0), fc = flow.size(1), h = flow.size(2), w = flow.size(3);
  const auto dtype = feature.scalar_type();
  auto mask = upsampler_->forward(torch::cat({flow.to(dtype), feature}, 1)).to(flow.scalar_type());
  mask = torch::softmax(mask.view({b, 1, 9, k, k, h, w}), 2);
  auto up = F::unfold(flow * k, F::UnfoldFuncOptions({3, 3}).padding(1)).view({b, fc, 9, 1, 1, h, w});
  up = torch::sum(mask * up, 2);  // [B, 2, K, K, H, W]
  return up.permute({0, 1, 4, 2, 5, 3}).reshape({b, fc, k * h, k * w});
}

torch::Tensor GmflowNetImpl::forward(const torch::Tensor& img0, const torch::Tensor& img1,
                                     GmflowIntermediates* inter, const FlowStepFn& on_step,
                                     std::vector<torch::Tensor>* train_preds) {
  if (img0.dim() != 4 || img0.size(1) != 3 || !img0.sizes().equals(img1.sizes()))
    throw std::invalid_argument("gmflow: images must be two [B,3,H,W] tensors of the same shape");
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(img0.device());
  const auto mean = torch::tensor({0.485, 0.456, 0.406}, opts).view({1, 3, 1, 1});
  const auto stdev = torch::tensor({0.229, 0.224, 0.225}, opts).view({1, 3, 1, 1});
  // bf16 (see ModulePrecision): backbone, transformer and projections compute in the
  // modules' dtype; matching, its softmaxes, warping, propagation and flows stay fp32.
  const auto dtype = ModuleDtype(*this);
  auto x0 = ((img0 / 255.0 - mean) / stdev).to(dtype);
  auto x1 = ((img1 / 255.0 - mean) / stdev).to(dtype);

  // Both images through the encoder as one batch, as the official extract_feature does.
  // Outside autograd, large frames go one at a time (the norms are per image, so the same
  // features): the half-resolution maps of both frames are the largest tensors of a pass
  // (5 x 67 MB alive at 960x540).
  std::vector<torch::Tensor> features;  // high -> low resolution
  if (!torch::GradMode::is_enabled() && x0.size(0) * x0.size(2) * x0.size(3) > (int64_t{1} << 18)) {
    const auto f0 = backbone_->forward(x0);
    const auto f1 = backbone_->forward(x1);
    for (size_t i = 0; i < f0.size(); ++i) features.push_back(torch::cat({f0[i], f1[i]}, 0));
  } else {
    features = backbone_->forward(torch::cat({x0, x1}, 0));
  }
  if (inter) *inter = GmflowIntermediates{features, {}, {}, {}, {}};

  const int num_scales = config_.num_scales;
  // Each transformer block is a step: a whole transformer is ~60% of a pass (seconds).
  const int steps = Steps();
  int done = 0;
  const auto step = [&] { ReportFlowStep(on_step, ++done, steps); };
  step();
  const int64_t channels = config_.feature_channels;
  torch::Tensor flow;
  for (int s = 0; s < num_scales; ++s) {
    auto chunks = features[num_scales - 1 - s].chunk(2, 0);
    auto feature0 = chunks[0], feature1 = chunks[1];
    if (s > 0) {
      flow = F::interpolate(flow, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{flow.size(2) * 2, flow.size(3) * 2})
                                      .mode(torch::kBilinear)
                                      .align_corners(true)) *
             2;
    }
    // As the original, no gradient reaches the previous scale through the warp.
    if (flow.defined()) {
      flow = flow.detach();
      feature1 = gmflow::FlowWarp(feature1.to(torch::kFloat), flow).to(dtype);
    }

    const int64_t attn_splits = config_.attn_splits_list[s];
    const int corr_radius = config_.corr_radius_list[s];
    const int prop_radius = config_.prop_radius_list[s];
    std::tie(feature0, feature1) = gmflow::FeatureAddPosition(feature0, feature1, attn_splits, channels);
    feature0 = feature0.to(dtype);  // the fp32 position encoding promoted them
    feature1 = feature1.to(dtype);
    std::tie(feature0, feature1) = transformer_->forward(feature0, feature1, attn_splits, step);

    const auto match0 = feature0.to(torch::kFloat), match1 = feature1.to(torch::kFloat);
    auto flow_pred = corr_radius == -1 ? gmflow::GlobalCorrelationSoftmax(match0, match1)
                                       : gmflow::LocalCorrelationSoftmax(match0, match1, corr_radius);
    flow = flow.defined() ? flow + flow_pred : flow_pred;
    // Supervision at the input resolution (official: upsample_factor * 2^(scales-1-s)).
    const int64_t factor = int64_t(config_.upsample_factor) << (num_scales - 1 - s);
    if (train_preds) train_preds->push_back(BilinearUpsampleFlow(flow, factor));
    flow = feature_flow_attn_->forward(feature0, flow.detach(), prop_radius > 0 ? prop_radius : 0);
    if (train_preds && s < num_scales - 1) train_preds->push_back(BilinearUpsampleFlow(flow, factor));
    if (inter) {
      inter->transformer0.push_back(feature0);
      inter->transformer1.push_back(feature1);
      inter->matching_flow.push_back(flow_pred);
      inter->flow_after_prop.push_back(flow);
    }
    if (s == num_scales - 1) {
      auto up = UpsampleFlow(flow, feature0).to(torch::kFloat);
      if (train_preds) train_preds->push_back(up);
      step();
      return up;
    }
    step();
  }
  throw std::logic_error("gmflow: no scale ran");
}

FlopCount GmflowNetImpl::CountOfficialFlops(int64_t batch, int64_t h, int64_t w) const {
  FlopCount count;
  const auto sizes = backbone_->CountFlops(count, 2 * batch, h, w);  // both images as one batch
  const int num_scales = config_.num_scales;
  for (int s = 0; s < num_scales; ++s) {
    const auto [fh, fw] = sizes[num_scales - 1 - s];
    const int64_t hw = fh * fw, c = config_.feature_channels;
    transformer_->CountFlops(count, batch, fh, fw, config_.attn_splits_list[s]);
    // Matching: correlation with every position (global) or the (2r+1)^2 window, its
    // softmax times the candidate coordinates.
    const int radius = config_.corr_radius_list[s];
    const int64_t candidates = radius == -1 ? hw : (2 * radius + 1) * (2 * radius + 1);
    count.Matmul("matching", batch, hw, candidates, c);
    count.Matmul("matching", batch, hw, 2, candidates);
    feature_flow_attn_->CountFlops(count, batch, fh, fw, std::max(0, config_.prop_radius_list[s]));
    if (s == num_scales - 1) count.Sequential("upsampling", *upsampler_, batch, fh, fw);
  }
  return count;
}

GmflowModel::GmflowModel(const GmflowConfig& config) : net_(config) { net_->eval(); }

torch::nn::Module& GmflowModel::module() {
  precision_.Restore();
  return *net_;
}

std::vector<torch::Tensor> GmflowModel::TrainForward(const torch::Tensor& image1, const torch::Tensor& image2,
                                                     int /*iters: GMFlow has no refinement iterations*/) {
  precision_.Restore();
  const int64_t m = net_->config().padding_factor;
  if (image1.size(2) % m != 0 || image1.size(3) % m != 0)
    throw std::invalid_argument(name() + ": training crops must be multiples of " + std::to_string(m) + ", got " +
                                std::to_string(image1.size(2)) + "x" + std::to_string(image1.size(3)));
  std::vector<torch::Tensor> preds;
  net_->forward(image1.to(torch::kFloat), image2.to(torch::kFloat), nullptr, {}, &preds);
  return preds;
}

FlopCount GmflowModel::OfficialFlops(int64_t height, int64_t width, int /*iters*/) const {
  const InputPadder padder(height, width, "sintel", net_->config().padding_factor);
  return net_->CountOfficialFlops(1, padder.padded_height(), padder.padded_width());
}

std::string GmflowModel::name() const { return net_->config().num_scales > 1 ? "gmflow-refine" : "gmflow"; }

LoadReport GmflowModel::LoadWeights(const std::string& path, bool strict) {
  // Release files are {'model': state_dict}; LoadStateDict unwraps that (and a bare dict).
  precision_.Restore();
  const StateDict state = LoadStateDict(path);
  return LoadIntoModule(*net_, state, nullptr, strict);
}

void GmflowModel::SaveWeights(const std::string& path) const {
  precision_.Restore();  // the fp32 weights, also after a bf16 run
  SaveStateDict(path, ModuleStateDict(*net_), "", "model");  // release files are {'model': state_dict}
}

void GmflowModel::To(const torch::Device& device) {
  precision_.Restore();
  net_->to(device);
  net_->eval();
  device_ = device;
}

torch::Tensor GmflowModel::Estimate(const torch::Tensor& image1, const torch::Tensor& image2,
                                    const FlowInferenceOptions& options) {
  if (image1.dim() != 4 || image1.size(1) != 3 || !image1.sizes().equals(image2.sizes()))
    throw std::invalid_argument("gmflow: Estimate needs two [B,3,H,W] images of the same shape");
  options.Check();
  precision_.Use(*net_, options.precision);
  // The official scripts pad by replication to a multiple of 16 (32 with refinement).
  const InputPadder padder(image1.size(2), image1.size(3), options.padding, net_->config().padding_factor);
  torch::Tensor flow;
  {
    torch::InferenceMode guard;
    auto x0 = padder.Pad(image1.to(device_, torch::kFloat32));
    auto x1 = padder.Pad(image2.to(device_, torch::kFloat32));
    flow = padder.Unpad(net_->forward(x0, x1, nullptr, options.on_step)).to(image1.device());
  }
  // A normal tensor for the caller (inference tensors refuse in-place use outside the guard).
  return flow.clone();
}

std::unique_ptr<FlowModel> CreateGmflow(bool refine) {
  return std::make_unique<GmflowModel>(GmflowConfig::Official(refine));
}

}  // namespace animerun::models
