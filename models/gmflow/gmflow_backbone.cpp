#include "models/gmflow/gmflow_backbone.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/common/channel_block_maps.h"

namespace animerun::models::gmflow {

namespace nn = torch::nn;

namespace {

// A 3x3 stride-1 convolution without bias on channel blocks by oneDNN's fp32 Winograd, also
// for bf16 weights (widened exactly): with fp32 rounding, and faster than oneDNN's bf16 direct
// kernels. The bf16 Winograd of bf16_winograd_conv.h is faster still, but its rounding,
// compounded over the 12 layers, moved the flow 4x further from fp32's (docs/benchmarks.md).
// In bands of about 2^20 / channels pixels: whole 112x256 maps of 96 or 128 channels took
// oneDNN 2-3x as long as the same map in such bands (30-45 against 13-22 ms on 2 Zen 4 cores).
at::Tensor Conv3x3Blocks(const at::Tensor& x, const torch::Tensor& weight) {
  const int64_t h = x.size(1), w = x.size(2), k = weight.size(0);
  const int64_t band_pixels = std::max<int64_t>((int64_t{1} << 20) / std::max(k, weight.size(1)), 4 * w);
  at::Tensor out;
  DnnlWinogradConv3x3Bands(x, weight.to(torch::kFloat), {}, band_pixels,
                           [&](const at::Tensor& band, int64_t row0, int64_t rows) {
                             if (row0 == 0 && rows == h && band.size(1) == h) {
                               out = band;  // one band: its buffer is the output
                               return;
                             }
                             if (!out.defined()) out = torch::empty({k / 16, h, w, 16}, x.options());
                             out.narrow(1, row0, rows).copy_(band.narrow(1, 0, rows));
                           });
  return out.defined() ? out : torch::empty({k / 16, h, w, 16}, x.options());  // an empty map: no band
}

}  // namespace

torch::Tensor InstanceNorm(const torch::Tensor& x) {
  // Same call F.instance_norm makes (cudnn flag as PyTorch's global default).
  return torch::instance_norm(x, {}, {}, {}, {}, /*use_input_stats=*/true, /*momentum=*/0.1,
                              /*eps=*/1e-5, at::globalContext().userEnabledCuDNN());
}

ResidualBlockImpl::ResidualBlockImpl(int64_t in_planes, int64_t planes, int64_t stride) {
  conv1_ = register_module(
      "conv1", TrainConv2d(nn::Conv2dOptions(in_planes, planes, 3).stride(stride).padding(1).bias(false)));
  conv2_ = register_module("conv2", TrainConv2d(nn::Conv2dOptions(planes, planes, 3).padding(1).bias(false)));
  if (stride != 1 || in_planes != planes) {
    downsample_ = register_module(
        "downsample", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in_planes, planes, 1).stride(stride))));
  }
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(InstanceNorm(conv1_->forward(x)));
  y = torch::relu(InstanceNorm(conv2_->forward(y)));
  torch::Tensor skip = x;
  if (downsample_) skip = InstanceNorm(downsample_->forward(x));
  return torch::relu(skip + y);
}

at::Tensor ResidualBlockImpl::ForwardBlocks(const at::Tensor& x) {
  const auto dtype = conv1_->weight.scalar_type();
  // The strided convolutions and the 1x1 one read a channels-last map, made once.
  const torch::Tensor map = conv1_->options.stride()->at(0) != 1 || downsample_ ? ChannelsLastOf(x, dtype) : torch::Tensor();
  at::Tensor y = conv1_->options.stride()->at(0) == 1 ? Conv3x3Blocks(x, conv1_->weight) : ChannelBlocksOf(conv1_->forward(map));
  InstanceNormBlocksInPlace(y, /*relu=*/true);
  y = Conv3x3Blocks(y, conv2_->weight);
  at::Tensor skip = x;
  if (downsample_) {
    skip = ChannelBlocksOf(downsample_->forward(map));
    InstanceNormBlocksInPlace(skip, /*relu=*/false);
  }
  InstanceNormReluAddReluInPlace(y, skip);
  return y;
}

std::pair<int64_t, int64_t> ResidualBlockImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h,
                                                          int64_t w) const {
  const auto out = count.Conv("encoder", *conv1_, batch, h, w);
  count.Conv("encoder", *conv2_, batch, out.first, out.second);
  if (downsample_) count.Sequential("encoder", *downsample_, batch, h, w);
  return out;
}

TridentConvImpl::TridentConvImpl(int64_t channels, std::vector<int64_t> strides) : strides_(std::move(strides)) {
  weight_ = register_parameter("weight", torch::empty({channels, channels, 3, 3}));
  torch::nn::init::kaiming_uniform_(weight_, 0, torch::kFanIn, torch::kReLU);
}

std::vector<torch::Tensor> TridentConvImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> out;
  for (int64_t s : strides_)
    out.push_back(s == 1 ? Conv3x3Train(x, weight_, {}) : torch::conv2d(x, weight_, {}, s, 1, 1, 1));
  return out;
}

CnnEncoderImpl::CnnEncoderImpl(int64_t output_dim, int num_output_scales) : num_branch_(num_output_scales) {
  conv1_ = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  layer1_ = register_module("layer1", MakeLayer(64, 1));   // 1/2
  layer2_ = register_module("layer2", MakeLayer(96, 2));   // 1/4
  // The highest output resolution is 1/8 for one scale, 1/4 when the trident conv follows.
  layer3_ = register_module("layer3", MakeLayer(128, num_output_scales == 1 ? 2 : 1));
  conv2_ = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(128, output_dim, 1)));
  if (num_branch_ > 1) {
    std::vector<int64_t> strides;
    if (num_branch_ > 4) throw std::invalid_argument("gmflow: num_scales must be 1..4, got " + std::to_string(num_branch_));
    for (int i = 0; i < num_branch_; ++i) strides.push_back(int64_t{1} << i);  // 1, 2, 4, 8
    trident_conv_ = register_module("trident_conv", TridentConv(output_dim, strides));
  }
}

nn::Sequential CnnEncoderImpl::MakeLayer(int64_t dim, int64_t stride) {
  nn::Sequential layer(ResidualBlock(in_planes_, dim, stride), ResidualBlock(dim, dim, 1));
  in_planes_ = dim;
  return layer;
}

std::vector<std::pair<int64_t, int64_t>> CnnEncoderImpl::CountFlops(FlopCount& count, int64_t batch, int64_t h,
                                                                    int64_t w) const {
  auto size = count.Conv("encoder", *conv1_, batch, h, w);
  for (const auto& layer : {layer1_, layer2_, layer3_})
    for (const auto& block : layer->children())
      size = block->as<ResidualBlockImpl>()->CountFlops(count, batch, size.first, size.second);
  size = count.Conv("encoder", *conv2_, batch, size.first, size.second);
  if (num_branch_ == 1) return {size};
  // The trident conv: one 3x3 conv (padding 1) per output stride, on the same input.
  std::vector<std::pair<int64_t, int64_t>> out;
  const int64_t channels = conv2_->options.out_channels();
  for (int i = 0; i < num_branch_; ++i) {
    const int64_t s = int64_t{1} << i;
    const int64_t oh = (size.first - 1) / s + 1, ow = (size.second - 1) / s + 1;
    count.ConvShape("encoder", batch, channels, channels, 3, 3, oh, ow);
    out.emplace_back(oh, ow);
  }
  return out;
}

bool CnnEncoderImpl::BlocksApply(const torch::Tensor& x) const {
  const auto dtype = conv1_->weight.scalar_type();
  return !torch::GradMode::is_enabled() && x.is_cpu() && x.dim() == 4 && x.size(0) > 0 && x.scalar_type() == dtype &&
         (dtype == torch::kFloat || dtype == torch::kBFloat16) && WinogradInferenceEnabled() && DnnlWinogradAvailable();
}

std::vector<torch::Tensor> CnnEncoderImpl::ForwardBlocks(const torch::Tensor& img) {
  const auto dtype = conv1_->weight.scalar_type();
  at::Tensor x = ChannelBlocksOf(conv1_->forward(img.contiguous(torch::MemoryFormat::ChannelsLast)));
  InstanceNormBlocksInPlace(x, /*relu=*/true);
  for (const auto& layer : {layer1_, layer2_, layer3_})
    for (const auto& block : layer->children()) x = block->as<ResidualBlockImpl>()->ForwardBlocks(x);
  torch::Tensor out = conv2_->forward(ChannelsLastOf(x, dtype)).contiguous();
  if (num_branch_ == 1) return {out};
  std::vector<torch::Tensor> scales;
  for (size_t i = 0; i < trident_conv_->strides().size(); ++i) {
    const int64_t s = trident_conv_->strides()[i];
    const torch::Tensor& w = trident_conv_->weight();
    scales.push_back(s == 1 ? ChannelsLastOf(Conv3x3Blocks(ChannelBlocksOf(out), w), dtype).contiguous()
                            : torch::conv2d(out, w, {}, s, 1, 1, 1));
  }
  return scales;
}

std::vector<torch::Tensor> CnnEncoderImpl::forward(const torch::Tensor& input) {
  if (BlocksApply(input)) {
    // The norms are per image, so images one at a time give the same features.
    std::vector<std::vector<torch::Tensor>> per_image;
    for (int64_t i = 0; i < input.size(0); ++i) per_image.push_back(ForwardBlocks(input.narrow(0, i, 1)));
    std::vector<torch::Tensor> out;
    for (size_t s = 0; s < per_image[0].size(); ++s) {
      std::vector<torch::Tensor> parts;
      for (const auto& p : per_image) parts.push_back(p[s]);
      out.push_back(parts.size() == 1 ? parts[0] : torch::cat(parts, 0));
    }
    return out;
  }
  auto x = torch::relu(InstanceNorm(conv1_->forward(input)));
  x = layer1_->forward(x);
  x = layer2_->forward(x);
  x = layer3_->forward(x);
  x = conv2_->forward(x);
  if (num_branch_ > 1) return trident_conv_->forward(x);
  return {x};
}

}  // namespace animerun::models::gmflow
