#include "models/common/corr_block.h"

#include <ATen/Parallel.h>

#include <algorithm>
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
  pyramid_.push_back(corr.contiguous());
  for (int i = 0; i < num_levels - 1; ++i) {
    corr = F::avg_pool2d(corr, F::AvgPool2dFuncOptions(2).stride(2));
    pyramid_.push_back(corr.contiguous());
  }
  const int64_t k = 2 * radius + 1;
  auto lin = torch::linspace(-radius, radius, k, fmap1.options().dtype(torch::kFloat));
  // meshgrid(dy, dx) with "ij" indexing, stacked: element [i][j] = (lin[i], lin[j]), and the
  // first component is added to x. So x varies along the first window axis.
  delta_ = torch::stack({lin.view({k, 1}).expand({k, k}), lin.view({1, k}).expand({k, k})}, -1)
               .view({1, k, k, 2});
}

namespace {

// The CPU lookup without grid_sample: all (2r+1)^2 samples of a window share one pair of
// bilinear weights (the offsets are integers), so each output is four reads of a
// (2r+2)^2 patch. Same formula as grid_sample (nw, ne, sw, se weights, zero outside), but
// on the pixel coordinate itself rather than its [-1, 1] round trip, so results differ
// from the original only by float rounding. Writes [B, h, w, C] memory, i.e. the
// [B, C, h, w] result in channels-last layout.
torch::Tensor LookupCpu(const std::vector<torch::Tensor>& pyramid, const torch::Tensor& coords, int radius) {
  const int64_t batch = coords.size(0), ht = coords.size(2), wd = coords.size(3), hw = ht * wd;
  const int64_t k = 2 * radius + 1, kk = k * k, levels = static_cast<int64_t>(pyramid.size());
  const int64_t channels = levels * kk;
  auto out = torch::empty({batch, ht, wd, channels}, coords.options().dtype(torch::kFloat));
  auto xy = coords.to(torch::kFloat).contiguous();
  const float* cptr = xy.data_ptr<float>();
  float* optr = out.data_ptr<float>();
  std::vector<const float*> lvl(levels);
  std::vector<int64_t> lh(levels), lw(levels);
  for (int64_t i = 0; i < levels; ++i) {
    lvl[i] = pyramid[i].data_ptr<float>();
    lh[i] = pyramid[i].size(2);
    lw[i] = pyramid[i].size(3);
  }
  at::parallel_for(0, batch * hw, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> patch((k + 1) * (k + 1));
    for (int64_t n = begin; n < end; ++n) {
      const int64_t b = n / hw, p = n % hw;
      const float cx = cptr[(b * 2) * hw + p], cy = cptr[(b * 2 + 1) * hw + p];
      float* o = optr + n * channels;
      for (int64_t i = 0; i < levels; ++i, o += kk) {
        const float px = cx / static_cast<float>(int64_t(1) << i), py = cy / static_cast<float>(int64_t(1) << i);
        const int64_t h = lh[i], w = lw[i];
        if (!std::isfinite(px) || !std::isfinite(py) || px < -k - 1 || py < -k - 1 || px > w + k || py > h + k) {
          std::fill(o, o + kk, 0.f);  // the whole window lies outside (or NaN): grid_sample gives 0
          continue;
        }
        const float fx0 = std::floor(px), fy0 = std::floor(py);
        const float fx = px - fx0, fy = py - fy0;
        const int64_t x0 = static_cast<int64_t>(fx0) - radius, y0 = static_cast<int64_t>(fy0) - radius;
        const float* img = lvl[i] + n * h * w;
        // patch[a][c] = value at (x0 + a, y0 + c), zero outside.
        for (int64_t a = 0; a <= k; ++a) {
          const int64_t xx = x0 + a;
          float* row = patch.data() + a * (k + 1);
          if (xx < 0 || xx >= w) {
            std::fill(row, row + k + 1, 0.f);
            continue;
          }
          for (int64_t c = 0; c <= k; ++c) {
            const int64_t yy = y0 + c;
            row[c] = (yy >= 0 && yy < h) ? img[yy * w + xx] : 0.f;
          }
        }
        const float nw = (1 - fx) * (1 - fy), ne = fx * (1 - fy), sw = (1 - fx) * fy, se = fx * fy;
        for (int64_t a = 0; a < k; ++a) {
          const float* r0 = patch.data() + a * (k + 1);
          const float* r1 = r0 + (k + 1);
          for (int64_t c = 0; c < k; ++c)
            o[a * k + c] = nw * r0[c] + ne * r1[c] + sw * r0[c + 1] + se * r1[c + 1];
        }
      }
    }
  });
  return out.permute({0, 3, 1, 2});
}

}  // namespace

torch::Tensor CorrBlock::operator()(const torch::Tensor& coords) const {
  if (coords.dim() != 4 || coords.size(1) != 2)
    throw std::invalid_argument("CorrBlock: coords must be [B, 2, h, w], got " + c10::str(coords.sizes()));
  if (coords.is_cpu() && pyramid_[0].scalar_type() == torch::kFloat) return LookupCpu(pyramid_, coords, radius_);
  return LookupReference(coords);
}

torch::Tensor CorrBlock::LookupReference(const torch::Tensor& coords) const {
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
