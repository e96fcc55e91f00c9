#include "models/common/corr_block.h"

#include <cmath>
#include <stdexcept>

namespace animerun::models {

namespace F = torch::nn::functional;

torch::Tensor CorrBlock::AllPairs(const torch::Tensor& fmap1, const torch::Tensor& fmap2) {
  const int64_t batch = fmap1.size(0), dim = fmap1.size(1), ht = fmap1.size(2), wd = fmap1.size(3);
  auto f1 = fmap1.reshape({batch, dim, ht * wd});
  auto f2 = fmap2.reshape({batch, dim, ht * wd});
  auto corr = torch::matmul(f1.transpose(1, 2), f2).view({batch, ht, wd, 1, ht, wd});
  // The original divides by a float32 tensor sqrt(dim); keep the division (not a
  // reciprocal multiply) so the rounding matches.
  const float norm = std::sqrt(static_cast<float>(dim));
  return corr.div_(norm);
}

CorrBlock::CorrBlock(const torch::Tensor& fmap1, const torch::Tensor& fmap2, int num_levels, int radius)
    : num_levels_(num_levels), radius_(radius) {
  if (fmap1.dim() != 4 || fmap1.sizes() != fmap2.sizes())
    throw std::invalid_argument("CorrBlock: feature maps must be [B, C, h, w] of equal shape, got " +
                                c10::str(fmap1.sizes()) + " and " + c10::str(fmap2.sizes()));
  if (num_levels < 1 || radius < 0) throw std::invalid_argument("CorrBlock: bad levels/radius");
  const int64_t batch = fmap1.size(0), ht = fmap1.size(2), wd = fmap1.size(3);
  if ((ht >> (num_levels - 1)) < 1 || (wd >> (num_levels - 1)) < 1)
    throw std::invalid_argument("CorrBlock: " + std::to_string(ht) + "x" + std::to_string(wd) +
                                " feature map is too small for " + std::to_string(num_levels) + " levels");
  auto corr = AllPairs(fmap1, fmap2).reshape({batch * ht * wd, 1, ht, wd});
  pyramid_.reserve(num_levels);
  pyramid_.push_back(corr);
  for (int i = 0; i < num_levels - 1; ++i) {
    corr = F::avg_pool2d(corr, F::AvgPool2dFuncOptions(2).stride(2));
    pyramid_.push_back(corr);
  }
  const int64_t k = 2 * radius + 1;
  auto lin = torch::linspace(-radius, radius, k, fmap1.options().dtype(torch::kFloat));
  // meshgrid(dy, dx) with "ij" indexing, stacked: element [i][j] = (lin[i], lin[j]), and the
  // first component is added to x. So x varies along the first window axis.
  delta_ = torch::stack({lin.view({k, 1}).expand({k, k}), lin.view({1, k}).expand({k, k})}, -1)
               .view({1, k, k, 2});
}

torch::Tensor CorrBlock::operator()(const torch::Tensor& coords) const {
  const int64_t batch = coords.size(0), ht = coords.size(2), wd = coords.size(3);
  auto centroid = coords.permute({0, 2, 3, 1}).reshape({batch * ht * wd, 1, 1, 2});
  std::vector<torch::Tensor> out;
  out.reserve(num_levels_);
  for (int i = 0; i < num_levels_; ++i) {
    auto c = i == 0 ? centroid : centroid / static_cast<float>(1 << i);
    auto sampled = BilinearSampler(pyramid_[i], c + delta_);  // [N, 1, k, k]
    out.push_back(sampled.view({batch, ht, wd, -1}));
  }
  return torch::cat(out, -1).permute({0, 3, 1, 2}).contiguous();
}

torch::Tensor BilinearSampler(const torch::Tensor& img, const torch::Tensor& coords) {
  const int64_t h = img.size(-2), w = img.size(-1);
  auto xy = coords.split({1, 1}, -1);
  // Same operation order as the original: 2 * x / (W - 1) - 1.
  auto xgrid = xy[0].mul(2).div_(static_cast<double>(w - 1)).sub_(1);
  auto ygrid = xy[1].mul(2).div_(static_cast<double>(h - 1)).sub_(1);
  auto grid = torch::cat({xgrid, ygrid}, -1);
  return F::grid_sample(img, grid,
                        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(true));
}

torch::Tensor CoordsGrid(int64_t batch, int64_t ht, int64_t wd, const torch::Device& device) {
  auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  auto ys = torch::arange(ht, opts).view({ht, 1}).expand({ht, wd});
  auto xs = torch::arange(wd, opts).view({1, wd}).expand({ht, wd});
  return torch::stack({xs, ys}, 0).unsqueeze(0).repeat({batch, 1, 1, 1});
}

}  // namespace animerun::models
