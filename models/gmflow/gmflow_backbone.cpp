#include "models/gmflow/gmflow_backbone.h"

#include <stdexcept>
#include <string>

namespace animerun::models::gmflow {

namespace nn = torch::nn;

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

std::vector<torch::Tensor> CnnEncoderImpl::forward(const torch::Tensor& input) {
  auto x = torch::relu(InstanceNorm(conv1_->forward(input)));
  x = layer1_->forward(x);
  x = layer2_->forward(x);
  x = layer3_->forward(x);
  x = conv2_->forward(x);
  if (num_branch_ > 1) return trident_conv_->forward(x);
  return {x};
}

}  // namespace animerun::models::gmflow
