#include "models/raft/extractor.h"
#include "models/common/memory_format.h"

namespace animerun::models {

namespace nn = torch::nn;

namespace {

nn::Conv2d Conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t pad = 0) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad));
}

}  // namespace

torch::Tensor InstanceNormImpl::forward(const torch::Tensor& x) {
  auto [var, mean] = torch::var_mean(x, {2, 3}, /*unbiased=*/false, /*keepdim=*/true);
  return (x - mean).mul_(var.add_(1e-5).rsqrt_());
}

nn::AnyModule MakeNorm(NormFn fn, int64_t channels, int64_t num_groups) {
  switch (fn) {
    case NormFn::kGroup:
      return nn::AnyModule(nn::GroupNorm(nn::GroupNormOptions(num_groups, channels)));
    case NormFn::kBatch:
      return nn::AnyModule(nn::BatchNorm2d(nn::BatchNorm2dOptions(channels)));
    case NormFn::kInstance:
      return nn::AnyModule(InstanceNorm());
    case NormFn::kNone:
      break;
  }
  return nn::AnyModule(nn::Identity());
}

ResidualBlockImpl::ResidualBlockImpl(int64_t in_planes, int64_t planes, NormFn norm_fn, int64_t stride) {
  conv1_ = register_module("conv1", Conv(in_planes, planes, 3, stride, 1));
  conv2_ = register_module("conv2", Conv(planes, planes, 3, 1, 1));
  const int64_t groups = planes / 8;
  norm1_ = MakeNorm(norm_fn, planes, groups);
  norm2_ = MakeNorm(norm_fn, planes, groups);
  register_module("norm1", norm1_.ptr());
  register_module("norm2", norm2_.ptr());
  if (stride != 1) {
    // The original registers norm3 twice: as itself and as downsample[1] (both keys are
    // in the state dict, sharing storage).
    auto norm3 = MakeNorm(norm_fn, planes, groups);
    register_module("norm3", norm3.ptr());
    downsample_ = nn::Sequential();
    downsample_->push_back(Conv(in_planes, planes, 1, stride));
    downsample_->push_back(std::move(norm3));
    register_module("downsample", downsample_);
  }
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto y = norm1_.forward(conv1_->forward(x)).relu_();
  y = norm2_.forward(conv2_->forward(y)).relu_();
  auto skip = downsample_ ? downsample_->forward(x) : x;
  // In training y is kept for its ReLU's backward: add out of place.
  return (y.requires_grad() ? y + skip : y.add_(skip)).relu_();
}

BottleneckBlockImpl::BottleneckBlockImpl(int64_t in_planes, int64_t planes, NormFn norm_fn, int64_t stride) {
  conv1_ = register_module("conv1", Conv(in_planes, planes / 4, 1));
  conv2_ = register_module("conv2", Conv(planes / 4, planes / 4, 3, stride, 1));
  conv3_ = register_module("conv3", Conv(planes / 4, planes, 1));
  const int64_t groups = planes / 8;
  norm1_ = MakeNorm(norm_fn, planes / 4, groups);
  norm2_ = MakeNorm(norm_fn, planes / 4, groups);
  norm3_ = MakeNorm(norm_fn, planes, groups);
  register_module("norm1", norm1_.ptr());
  register_module("norm2", norm2_.ptr());
  register_module("norm3", norm3_.ptr());
  if (stride != 1) {
    auto norm4 = MakeNorm(norm_fn, planes, groups);
    register_module("norm4", norm4.ptr());
    downsample_ = nn::Sequential();
    downsample_->push_back(Conv(in_planes, planes, 1, stride));
    downsample_->push_back(std::move(norm4));
    register_module("downsample", downsample_);
  }
}

torch::Tensor BottleneckBlockImpl::forward(const torch::Tensor& x) {
  auto y = norm1_.forward(conv1_->forward(x)).relu_();
  y = norm2_.forward(conv2_->forward(y)).relu_();
  y = norm3_.forward(conv3_->forward(y)).relu_();
  auto skip = downsample_ ? downsample_->forward(x) : x;
  // In training y is kept for its ReLU's backward: add out of place.
  return (y.requires_grad() ? y + skip : y.add_(skip)).relu_();
}

EncoderImpl::EncoderImpl(bool small, int64_t output_dim, NormFn norm_fn) {
  const int64_t c1 = small ? 32 : 64, c2 = small ? 64 : 96, c3 = small ? 96 : 128;
  norm1_ = MakeNorm(norm_fn, c1, 8);
  register_module("norm1", norm1_.ptr());
  conv1_ = register_module("conv1", Conv(3, c1, 7, 2, 3));
  int64_t in_planes = c1;
  auto make_layer = [&](int64_t dim, int64_t stride) {
    nn::Sequential seq;
    if (small) {
      seq->push_back(BottleneckBlock(in_planes, dim, norm_fn, stride));
      seq->push_back(BottleneckBlock(dim, dim, norm_fn, 1));
    } else {
      seq->push_back(ResidualBlock(in_planes, dim, norm_fn, stride));
      seq->push_back(ResidualBlock(dim, dim, norm_fn, 1));
    }
    in_planes = dim;
    return seq;
  };
  layer1_ = register_module("layer1", make_layer(c1, 1));
  layer2_ = register_module("layer2", make_layer(c2, 2));
  layer3_ = register_module("layer3", make_layer(c3, 2));
  conv2_ = register_module("conv2", Conv(c3, output_dim, 1));
}

std::pair<int64_t, int64_t> ResidualBlockImpl::CountFlops(FlopCount& count, const std::string& part, int64_t batch,
                                                          int64_t h, int64_t w) const {
  const auto out = count.Conv(part, *conv1_, batch, h, w);
  count.Conv(part, *conv2_, batch, out.first, out.second);
  if (downsample_) count.Conv(part, *downsample_->ptr(0)->as<nn::Conv2dImpl>(), batch, h, w);
  return out;
}

std::pair<int64_t, int64_t> BottleneckBlockImpl::CountFlops(FlopCount& count, const std::string& part, int64_t batch,
                                                            int64_t h, int64_t w) const {
  auto out = count.Conv(part, *conv1_, batch, h, w);
  out = count.Conv(part, *conv2_, batch, out.first, out.second);
  out = count.Conv(part, *conv3_, batch, out.first, out.second);
  if (downsample_) count.Conv(part, *downsample_->ptr(0)->as<nn::Conv2dImpl>(), batch, h, w);
  return out;
}

std::pair<int64_t, int64_t> EncoderImpl::CountFlops(FlopCount& count, const std::string& part, int64_t batch,
                                                    int64_t h, int64_t w) const {
  auto size = count.Conv(part, *conv1_, batch, h, w);
  for (const auto& layer : {layer1_, layer2_, layer3_})
    for (const auto& block : layer->children()) {
      if (const auto* r = block->as<ResidualBlockImpl>())
        size = r->CountFlops(count, part, batch, size.first, size.second);
      else
        size = block->as<BottleneckBlockImpl>()->CountFlops(count, part, batch, size.first, size.second);
    }
  return count.Conv(part, *conv2_, batch, size.first, size.second);
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& input) {
  // Channels-last halves the CPU time of these convolutions in inference (oneDNN's native
  // layout; ConvFormat); the output keeps the layout, callers convert where they need NCHW.
  auto x = input.contiguous(ConvFormat(input));
  x = norm1_.forward(conv1_->forward(x)).relu_();
  x = layer1_->forward(x);
  x = layer2_->forward(x);
  x = layer3_->forward(x);
  return conv2_->forward(x);
}

}  // namespace animerun::models
