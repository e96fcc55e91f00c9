#include "models/common/corr_block.h"

#include "models/common/corr_window.h"
#include "models/common/dnnl_matmul.h"

#include <ATen/Parallel.h>

#ifdef ANIMERUN_WITH_CUDA
#include "models/common/corr_lookup_cuda.h"
#endif

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace animerun::models {

namespace F = torch::nn::functional;

torch::Tensor CorrBlock::AllPairs(const torch::Tensor& fmap1, const torch::Tensor& fmap2) {
  const int64_t batch = fmap1.size(0), dim = fmap1.size(1), ht = fmap1.size(2), wd = fmap1.size(3);
  auto f1 = fmap1.reshape({batch, dim, ht * wd});
  auto f2 = fmap2.reshape({batch, dim, ht * wd});
  auto corr = CpuMatmul(f1.transpose(1, 2), f2).view({batch, ht, wd, 1, ht, wd});
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

// The CPU lookup without grid_sample: corr_window.h.
using corr_window::Window;

struct LevelView {
  const float* data;  // [B*h*w, 1, lh, lw]: one correlation image per query pixel n
  int64_t h, w;
  float scale;        // 1 / 2^level
};

inline bool PlaceWindow(float cx, float cy, const LevelView& lv, int64_t radius, Window* win) {
  return corr_window::PlaceWindow(cx, cy, lv.scale, lv.h, lv.w, radius, win);
}

// patch[a * (k+1) + c] = value at (x0 + a, y0 + c), zero outside.
inline void ReadPatch(const float* img, const LevelView& lv, const Window& win, int64_t k, float* patch) {
  for (int64_t a = 0; a <= k; ++a) {
    const int64_t xx = win.x0 + a;
    float* row = patch + a * (k + 1);
    if (xx < 0 || xx >= lv.w) {
      std::fill(row, row + k + 1, 0.f);
      continue;
    }
    for (int64_t c = 0; c <= k; ++c) {
      const int64_t yy = win.y0 + c;
      row[c] = (yy >= 0 && yy < lv.h) ? img[yy * lv.w + xx] : 0.f;
    }
  }
}

// The k*k window samples of one query pixel in one level, written to o[a * k + c].
inline void SampleWindow(const float* img, const LevelView& lv, float cx, float cy, int64_t radius, float* patch,
                         float* o) {
  const int64_t k = 2 * radius + 1;
  Window win;
  if (!PlaceWindow(cx, cy, lv, radius, &win)) {
    std::fill(o, o + k * k, 0.f);
    return;
  }
  ReadPatch(img, lv, win, k, patch);
  corr_window::CombineWindow(patch, win, k, o);
}

LevelView ViewLevel(const torch::Tensor& level, int i) {
  return {level.data_ptr<float>(), level.size(2), level.size(3), 1.f / static_cast<float>(int64_t(1) << i)};
}

// Inference: all levels at once, written as [B, h, w, C] memory, i.e. the [B, C, h, w]
// result in channels-last layout.
torch::Tensor LookupCpu(const std::vector<torch::Tensor>& pyramid, const torch::Tensor& coords, int radius) {
  const int64_t batch = coords.size(0), ht = coords.size(2), wd = coords.size(3), hw = ht * wd;
  const int64_t k = 2 * radius + 1, kk = k * k, levels = static_cast<int64_t>(pyramid.size());
  const int64_t channels = levels * kk;
  auto out = torch::empty({batch, ht, wd, channels}, coords.options().dtype(torch::kFloat));
  auto xy = coords.to(torch::kFloat).contiguous();
  const float* cptr = xy.data_ptr<float>();
  float* optr = out.data_ptr<float>();
  std::vector<LevelView> lv;
  for (int64_t i = 0; i < levels; ++i) lv.push_back(ViewLevel(pyramid[i], static_cast<int>(i)));
  at::parallel_for(0, batch * hw, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> patch((k + 1) * (k + 1));
    for (int64_t n = begin; n < end; ++n) {
      const int64_t b = n / hw, p = n % hw;
      const float cx = cptr[(b * 2) * hw + p], cy = cptr[(b * 2 + 1) * hw + p];
      for (int64_t i = 0; i < levels; ++i)
        SampleWindow(lv[i].data + n * lv[i].h * lv[i].w, lv[i], cx, cy, radius, patch.data(),
                     optr + n * channels + i * kk);
    }
  });
  return out.permute({0, 3, 1, 2});
}

// Training: one level as an autograd function of (coords, level), with the gradient of
// the bilinear samples (what grid_sample's backward computes, on pixel coordinates).
// Inputs: coords [B, 2, h, w], level [B*h*w, 1, lh, lw]; output [B, h, w, k*k].
class LevelLookup : public torch::autograd::Function<LevelLookup> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& coords,
                               const torch::Tensor& level, int64_t index, int64_t radius) {
    const auto xy = coords.to(torch::kFloat).contiguous();
    const auto img = level.contiguous();
    ctx->save_for_backward({xy, img});
    ctx->saved_data["index"] = index;
    ctx->saved_data["radius"] = radius;
#ifdef ANIMERUN_WITH_CUDA
    if (xy.is_cuda()) return cuda::CorrLevelLookupForward(img, xy, index, radius);
#endif
    const int64_t batch = xy.size(0), hw = xy.size(2) * xy.size(3), k = 2 * radius + 1;
    auto out = torch::empty({batch, xy.size(2), xy.size(3), k * k}, xy.options());
    const float* cptr = xy.data_ptr<float>();
    float* optr = out.data_ptr<float>();
    const LevelView lv = ViewLevel(img, static_cast<int>(index));
    at::parallel_for(0, batch * hw, 16, [&](int64_t begin, int64_t end) {
      std::vector<float> patch((k + 1) * (k + 1));
      for (int64_t n = begin; n < end; ++n) {
        const int64_t b = n / hw, p = n % hw;
        SampleWindow(lv.data + n * lv.h * lv.w, lv, cptr[(b * 2) * hw + p], cptr[(b * 2 + 1) * hw + p], radius,
                     patch.data(), optr + n * k * k);
      }
    });
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& xy = saved[0];
    const torch::Tensor& img = saved[1];
    const int64_t index = ctx->saved_data["index"].toInt(), radius = ctx->saved_data["radius"].toInt();
    const int64_t batch = xy.size(0), hw = xy.size(2) * xy.size(3), k = 2 * radius + 1;
    const auto g = grads[0].to(torch::kFloat).contiguous();  // [B, h, w, k*k]
#ifdef ANIMERUN_WITH_CUDA
    if (xy.is_cuda()) {
      auto [g_xy, g_img] = cuda::CorrLevelLookupBackward(img, xy, g, index, radius);
      return {g_xy, g_img, torch::Tensor(), torch::Tensor()};
    }
#endif
    auto g_img = torch::zeros_like(img);                      // each query pixel owns its image
    auto g_xy = torch::zeros_like(xy);
    const float* cptr = xy.data_ptr<float>();
    const float* gptr = g.data_ptr<float>();
    float* gi = g_img.data_ptr<float>();
    float* gc = g_xy.data_ptr<float>();
    const LevelView lv = ViewLevel(img, static_cast<int>(index));
    at::parallel_for(0, batch * hw, 16, [&](int64_t begin, int64_t end) {
      std::vector<float> patch((k + 1) * (k + 1)), gpatch((k + 1) * (k + 1));
      for (int64_t n = begin; n < end; ++n) {
        const int64_t b = n / hw, p = n % hw;
        Window win;
        if (!PlaceWindow(cptr[(b * 2) * hw + p], cptr[(b * 2 + 1) * hw + p], lv, radius, &win)) continue;
        const float* src = lv.data + n * lv.h * lv.w;
        ReadPatch(src, lv, win, k, patch.data());
        std::fill(gpatch.begin(), gpatch.end(), 0.f);
        const float fx = win.fx, fy = win.fy;
        const float nw = (1 - fx) * (1 - fy), ne = fx * (1 - fy), sw = (1 - fx) * fy, se = fx * fy;
        const float* go = gptr + n * k * k;
        double dfx = 0.0, dfy = 0.0;
        for (int64_t a = 0; a < k; ++a) {
          const float* r0 = patch.data() + a * (k + 1);
          const float* r1 = r0 + (k + 1);
          float* q0 = gpatch.data() + a * (k + 1);
          float* q1 = q0 + (k + 1);
          for (int64_t c = 0; c < k; ++c) {
            const float gv = go[a * k + c];
            q0[c] += nw * gv;
            q1[c] += ne * gv;
            q0[c + 1] += sw * gv;
            q1[c + 1] += se * gv;
            dfx += gv * ((1 - fy) * (r1[c] - r0[c]) + fy * (r1[c + 1] - r0[c + 1]));
            dfy += gv * ((1 - fx) * (r0[c + 1] - r0[c]) + fx * (r1[c + 1] - r1[c]));
          }
        }
        float* dst = gi + n * lv.h * lv.w;
        for (int64_t a = 0; a <= k; ++a) {
          const int64_t xx = win.x0 + a;
          if (xx < 0 || xx >= lv.w) continue;
          for (int64_t c = 0; c <= k; ++c) {
            const int64_t yy = win.y0 + c;
            if (yy >= 0 && yy < lv.h) dst[yy * lv.w + xx] += gpatch[a * (k + 1) + c];
          }
        }
        gc[(b * 2) * hw + p] = static_cast<float>(dfx * lv.scale);
        gc[(b * 2 + 1) * hw + p] = static_cast<float>(dfy * lv.scale);
      }
    });
    return {g_xy, g_img, torch::Tensor(), torch::Tensor()};
  }
};

// The CUDA kernels (corr_lookup_cuda.cu) in the CUDA build, for CUDA float coordinates on
// the pyramid's device; anything else (other devices, the CPU build) takes LookupReference.
bool UseCudaKernel(const torch::Tensor& coords) {
#ifdef ANIMERUN_WITH_CUDA
  return coords.is_cuda();
#else
  (void)coords;
  return false;
#endif
}

}  // namespace

torch::Tensor CorrBlock::operator()(const torch::Tensor& coords) const {
  if (coords.dim() != 4 || coords.size(1) != 2)
    throw std::invalid_argument("CorrBlock: coords must be [B, 2, h, w], got " + c10::str(coords.sizes()));
  if (pyramid_[0].scalar_type() != torch::kFloat || !(coords.is_cpu() || UseCudaKernel(coords)))
    return LookupReference(coords);
  const bool needs_grad = torch::GradMode::is_enabled() && (coords.requires_grad() || pyramid_[0].requires_grad());
  if (!needs_grad && coords.is_cpu()) return LookupCpu(pyramid_, coords, radius_);
  std::vector<torch::Tensor> levels;
  for (int i = 0; i < num_levels_; ++i) levels.push_back(LevelLookup::apply(coords, pyramid_[i], i, radius_));
  // [B, h, w, C] memory: the result in channels-last layout, as the inference kernel's.
  return torch::cat(levels, -1).permute({0, 3, 1, 2});
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
