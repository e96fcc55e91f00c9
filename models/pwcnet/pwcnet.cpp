#include "models/pwcnet/pwcnet.h"

#include "models/common/cost_volume.h"
#include "models/common/train_conv2d.h"

#include <cmath>
#include <stdexcept>
#include <tuple>
#include <string>

namespace animerun::models {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace pwcnet {
namespace {

constexpr double kSlope = 0.1;  // leaky ReLU slope everywhere in run.py

// Conv2d whose 3x3 stride-1 layers train by Winograd (models/common/train_conv2d.h).
TrainConv2d Conv(int64_t in, int64_t out, int64_t stride = 1, int64_t dilation = 1) {
  return TrainConv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(dilation).dilation(dilation));
}

nn::LeakyReLU Leaky() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(kSlope)); }

const char* const kLevelNames[] = {"netOne", "netTwo", "netThr", "netFou", "netFiv", "netSix"};

// The 4x4 stride-2 transposed convolutions in fp32: LibTorch 1.13's CPU conv_transpose2d
// gives wrong shapes (or throws) for bf16 input. They are small (2 output channels).
torch::Tensor UpConv(nn::ConvTranspose2d& conv, const torch::Tensor& x) {
  if (x.scalar_type() == torch::kFloat) return conv->forward(x);
  const auto& w = conv->weight;
  const auto& b = conv->bias;
  return torch::conv_transpose2d(x.to(torch::kFloat), w.to(torch::kFloat), b.defined() ? b.to(torch::kFloat) : b, 2, 1);
}

}  // namespace

torch::Tensor Correlation(const torch::Tensor& one, const torch::Tensor& two) {
  return LocalCostVolume(one, two, /*radius=*/4, static_cast<double>(one.size(1)));
}

torch::Tensor Backwarp(const torch::Tensor& input, const torch::Tensor& flow) {
  const int64_t b = flow.size(0), h = flow.size(2), w = flow.size(3);
  // The base grid is made on the CPU and moved, as run.py does.
  auto hor = torch::linspace(-1.0, 1.0, w).view({1, 1, 1, -1}).repeat({1, 1, h, 1});
  auto ver = torch::linspace(-1.0, 1.0, h).view({1, 1, -1, 1}).repeat({1, 1, 1, w});
  const auto grid = torch::cat({hor, ver}, 1).to(flow.device());
  const auto partial = flow.new_ones({b, 1, h, w});
  const auto scaled = torch::cat({flow.slice(1, 0, 1) * (2.0 / (input.size(3) - 1.0)),
                                  flow.slice(1, 1, 2) * (2.0 / (input.size(2) - 1.0))},
                                 1);
  const auto output = F::grid_sample(torch::cat({input, partial}, 1), (grid + scaled).permute({0, 2, 3, 1}),
                                     F::GridSampleFuncOptions()
                                         .mode(torch::kBilinear)
                                         .padding_mode(torch::kZeros)
                                         .align_corners(true));
  const int64_t c = input.size(1);
  // run.py: mask[mask > 0.999] = 1; mask[mask < 1] = 0, i.e. a 0/1 mask of (mask > 0.999).
  const auto mask = (output.slice(1, c, c + 1) > 0.999).to(output.scalar_type());
  return output.slice(1, 0, c) * mask;
}

ExtractorImpl::ExtractorImpl() {
  const int64_t channels[] = {3, 16, 32, 64, 96, 128, 196};
  for (int i = 0; i < 6; ++i) {
    const int64_t in = channels[i], out = channels[i + 1];
    levels_.push_back(register_module(kLevelNames[i], nn::Sequential(Conv(in, out, 2), Leaky(), Conv(out, out), Leaky(),
                                                                   Conv(out, out), Leaky())));
  }
}

std::vector<std::array<int64_t, 3>> ExtractorImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h,
                                                              int64_t w) const {
  std::vector<std::array<int64_t, 3>> sizes;
  for (const auto& level : levels_) {
    std::tie(h, w) = count.Sequential("extractor", *level, batch, h, w);
    sizes.push_back({h, w, level->ptr(0)->as<nn::Conv2dImpl>()->options.out_channels()});
  }
  return sizes;
}

std::vector<torch::Tensor> ExtractorImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> out;
  torch::Tensor t = x;
  for (auto& level : levels_) {
    t = level->forward(t);
    out.push_back(t);
  }
  return out;
}

DecoderImpl::DecoderImpl(int level) {
  if (level < 2 || level > 6) throw std::invalid_argument("pwc: decoder level must be 2..6");
  // Input channels of netOne per level (run.py intCurrent / intPrevious): cost volume, own
  // features, upsampled flow and upsampled features.
  const int64_t table[] = {0, 0, 81 + 32 + 2 + 2, 81 + 64 + 2 + 2, 81 + 96 + 2 + 2, 81 + 128 + 2 + 2, 81, 0};
  const int64_t current = table[level];
  const int64_t previous = table[level + 1];
  const int64_t dense = 128 + 128 + 96 + 64 + 32;
  if (level < 6) {
    net_upflow_ = register_module(
        "netUpflow", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2, 2, 4).stride(2).padding(1)));
    net_upfeat_ = register_module(
        "netUpfeat", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(previous + dense, 2, 4).stride(2).padding(1)));
    const double scales[] = {0, 0, 5.0, 2.5, 1.25, 0.625};
    backwarp_scale_ = scales[level];
  }
  const int64_t outs[] = {128, 128, 96, 64, 32};
  int64_t in = current;
  for (int i = 0; i < 5; ++i) {
    convs_.push_back(register_module(kLevelNames[i], nn::Sequential(Conv(in, outs[i]), Leaky())));
    in += outs[i];
  }
  convs_.push_back(register_module(kLevelNames[5], nn::Sequential(Conv(in, 2))));
}

DecoderState DecoderImpl::forward(const torch::Tensor& one, const torch::Tensor& two, const DecoderState* previous,
                                  torch::Tensor* raw_corr) {
  // bf16 (see ModulePrecision): the convolutions run in the features' dtype; the cost
  // volume and the backward warp in fp32.
  const auto dtype = one.scalar_type();
  const auto one32 = one.to(torch::kFloat);
  torch::Tensor flow, feat, corr;
  if (previous == nullptr) {
    corr = Correlation(one32, two.to(torch::kFloat));
    feat = F::leaky_relu(corr, F::LeakyReLUFuncOptions().negative_slope(kSlope)).to(dtype);
  } else {
    if (!net_upflow_) throw std::logic_error("pwc: level-6 decoder given a previous estimate");
    flow = UpConv(net_upflow_, previous->flow).to(dtype);
    auto up_feat = UpConv(net_upfeat_, previous->feat).to(dtype);
    corr = Correlation(one32, Backwarp(two.to(torch::kFloat), flow.to(torch::kFloat) * backwarp_scale_));
    const auto volume = F::leaky_relu(corr, F::LeakyReLUFuncOptions().negative_slope(kSlope)).to(dtype);
    feat = torch::cat({volume, one, flow, up_feat}, 1);
  }
  if (raw_corr) *raw_corr = corr;
  for (size_t i = 0; i + 1 < convs_.size(); ++i) feat = torch::cat({convs_[i]->forward(feat), feat}, 1);
  return {convs_.back()->forward(feat), feat};
}

void DecoderImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h, int64_t w, int64_t channels) const {
  if (net_upflow_) {
    // The coarser level's flow and features, upsampled by 4x4 stride-2 transposed convs.
    count.ConvTranspose("decoders", *net_upflow_, batch, h / 2, w / 2);
    count.ConvTranspose("decoders", *net_upfeat_, batch, h / 2, w / 2);
  }
  count.Matmul("correlation", batch * h * w, 1, 81, channels);
  for (const auto& conv : convs_) count.Sequential("decoders", *conv, batch, h, w);
}

RefinerImpl::RefinerImpl() {
  net_main_ = register_module(
      "netMain", nn::Sequential(Conv(81 + 32 + 2 + 2 + 128 + 128 + 96 + 64 + 32, 128, 1, 1), Leaky(),
                                Conv(128, 128, 1, 2), Leaky(), Conv(128, 128, 1, 4), Leaky(), Conv(128, 96, 1, 8),
                                Leaky(), Conv(96, 64, 1, 16), Leaky(), Conv(64, 32, 1, 1), Leaky(), Conv(32, 2, 1, 1)));
}

}  // namespace pwcnet

PwcNetImpl::PwcNetImpl() {
  net_extractor_ = register_module("netExtractor", pwcnet::Extractor());
  const char* names[] = {"netTwo", "netThr", "netFou", "netFiv", "netSix"};
  for (int level = 2; level <= 6; ++level)
    decoders_.push_back(register_module(names[level - 2], pwcnet::Decoder(level)));
  net_refiner_ = register_module("netRefiner", pwcnet::Refiner());
}

torch::Tensor PwcNetImpl::forward(const torch::Tensor& one, const torch::Tensor& two, PwcIntermediates* inter,
                                  const FlowStepFn& on_step) {
  if (one.dim() != 4 || one.size(1) != 3 || !one.sizes().equals(two.sizes()))
    throw std::invalid_argument("pwc: images must be two [B,3,H,W] tensors of the same shape");
  if (one.size(2) % 64 != 0 || one.size(3) % 64 != 0)
    throw std::invalid_argument("pwc: network input must be a multiple of 64 in both sides");
  // Each image through the extractor on its own, as run.py does.
  const auto dtype = ModuleDtype(*this);
  const auto f1 = net_extractor_->forward(one.to(dtype));
  const auto f2 = net_extractor_->forward(two.to(dtype));
  constexpr int kSteps = 7;
  ReportFlowStep(on_step, 1, kSteps);
  if (inter) inter->correlation.clear();
  pwcnet::DecoderState state;
  for (int level = 6; level >= 2; --level) {
    torch::Tensor corr;
    state = decoders_[level - 2]->forward(f1[level - 1], f2[level - 1], level == 6 ? nullptr : &state,
                                          inter ? &corr : nullptr);
    if (inter) inter->correlation.push_back(corr);
    ReportFlowStep(on_step, 1 + (7 - level), kSteps);
  }
  auto flow = (state.flow.to(torch::kFloat) + net_refiner_->forward(state.feat).to(torch::kFloat)) * 20.0;
  ReportFlowStep(on_step, kSteps, kSteps);
  return flow;
}

FlopCount PwcNetImpl::CountOfficialFlops(int64_t batch, int64_t h, int64_t w) const {
  FlopCount count;
  const auto sizes = net_extractor_->CountFlops(count, batch, h, w);
  net_extractor_->CountFlops(count, batch, h, w);  // run.py extracts each image on its own
  for (int level = 6; level >= 2; --level) {
    const auto& [lh, lw, channels] = sizes[level - 1];
    decoders_[level - 2]->CountFlops(count, batch, lh, lw, channels);
  }
  net_refiner_->CountFlops(count, batch, sizes[1][0], sizes[1][1]);
  return count;
}

std::string PwcKeyFromOfficial(const std::string& key) {
  std::string out = key;
  for (size_t p = out.find("module"); p != std::string::npos; p = out.find("module", p + 3)) out.replace(p, 6, "net");
  return out;
}

std::string PwcKeyToOfficial(const std::string& key) {
  std::string out = key;
  for (size_t p = out.find("net"); p != std::string::npos; p = out.find("net", p + 6)) out.replace(p, 3, "module");
  return out;
}

torch::Tensor PwcEstimate(PwcNet& net, const torch::Tensor& image1, const torch::Tensor& image2,
                          torch::Tensor* network_output, PwcIntermediates* inter, const FlowStepFn& on_step) {
  const int64_t h = image1.size(2), w = image1.size(3);
  const int64_t h64 = static_cast<int64_t>(std::ceil(h / 64.0) * 64), w64 = static_cast<int64_t>(std::ceil(w / 64.0) * 64);
  auto prepare = [&](const torch::Tensor& img) {
    // run.py reads RGB, flips to BGR and multiplies by 1/255.
    auto x = img.to(torch::kFloat32).flip({1}) * (1.0 / 255.0);
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{h64, w64})
                                 .mode(torch::kBilinear)
                                 .align_corners(false));
  };
  auto raw = net->forward(prepare(image1), prepare(image2), inter, on_step);
  if (network_output) *network_output = raw;
  auto flow = F::interpolate(
      raw, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
  flow.select(1, 0).mul_(static_cast<double>(w) / static_cast<double>(w64));
  flow.select(1, 1).mul_(static_cast<double>(h) / static_cast<double>(h64));
  return flow;
}

PwcNetModel::PwcNetModel() { net_->eval(); }

torch::nn::Module& PwcNetModel::module() {
  precision_.Restore();
  return *net_;
}

std::vector<torch::Tensor> PwcNetModel::TrainForward(const torch::Tensor& image1, const torch::Tensor& image2,
                                                     int /*iters: no refinement iterations*/) {
  precision_.Restore();
  return {PwcEstimate(net_, image1, image2)};
}

LoadReport PwcNetModel::LoadWeights(const std::string& path, bool strict) {
  precision_.Restore();
  const StateDict state = LoadStateDict(path);
  return LoadIntoModule(*net_, state, PwcKeyFromOfficial, strict);
}

void PwcNetModel::SaveWeights(const std::string& path) const {
  precision_.Restore();  // the fp32 weights, also after a bf16 run
  SaveStateDict(path, ModuleStateDict(*net_, PwcKeyToOfficial));
}

void PwcNetModel::To(const torch::Device& device) {
  precision_.Restore();
  net_->to(device);
  net_->eval();
  device_ = device;
}

torch::Tensor PwcNetModel::Estimate(const torch::Tensor& image1, const torch::Tensor& image2,
                                    const FlowInferenceOptions& options) {
  if (image1.dim() != 4 || image1.size(1) != 3 || !image1.sizes().equals(image2.sizes()))
    throw std::invalid_argument("pwc: Estimate needs two [B,3,H,W] images of the same shape");
  options.Check();
  precision_.Use(*net_, options.precision);
  torch::Tensor flow;
  {
    torch::InferenceMode guard;
    flow = PwcEstimate(net_, image1.to(device_), image2.to(device_), nullptr, nullptr, options.on_step)
               .to(image1.device());
  }
  // A normal tensor for the caller (inference tensors refuse in-place use outside the guard).
  return flow.clone();
}

FlopCount PwcNetModel::OfficialFlops(int64_t height, int64_t width, int /*iters*/) const {
  // run.py resizes the input to the next multiples of 64.
  const auto up64 = [](int64_t v) { return (v + 63) / 64 * 64; };
  return net_->CountOfficialFlops(1, up64(height), up64(width));
}

std::unique_ptr<FlowModel> CreatePwcNet() { return std::make_unique<PwcNetModel>(); }

}  // namespace animerun::models
