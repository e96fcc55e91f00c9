#include "models/common/corr_on_demand.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <stdexcept>

#include "models/common/corr_window.h"

#ifdef ANIMERUN_WITH_CUDA
#include "models/common/corr_lookup_cuda.h"
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ANIMERUN_CORR_X86 1
#endif

namespace animerun::models {

namespace F = torch::nn::functional;

CorrMode ParseCorrMode(const std::string& name) {
  if (name == "auto") return CorrMode::kAuto;
  if (name == "all-pairs") return CorrMode::kAllPairs;
  if (name == "on-demand") return CorrMode::kOnDemand;
  throw std::invalid_argument("correlation: must be auto, all-pairs or on-demand, got '" + name + "'");
}

const char* CorrModeName(CorrMode mode) {
  switch (mode) {
    case CorrMode::kAllPairs: return "all-pairs";
    case CorrMode::kOnDemand: return "on-demand";
    case CorrMode::kAuto: break;
  }
  return "auto";
}

int64_t AllPairsPyramidBytes(int64_t batch, int64_t h, int64_t w, int levels) {
  int64_t floats = 0;
  for (int i = 0; i < levels; ++i) floats += batch * h * w * (h >> i) * (w >> i);
  return floats * static_cast<int64_t>(sizeof(float));
}

namespace {

// Dot products of C-float rows: the whole cost of the on-demand lookup. Eight independent
// sums (and AVX2/FMA where the CPU has them, chosen at run time) keep it from being
// latency-bound; the order differs from the GEMM's, within float rounding.
float DotPlain(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

#ifdef ANIMERUN_CORR_X86
__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(s0, s1));
  float s = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

using DotFn = float (*)(const float*, const float*, int64_t);
DotFn PickDot() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? DotAvx2 : DotPlain;
}
#else
using DotFn = float (*)(const float*, const float*, int64_t);
DotFn PickDot() { return DotPlain; }
#endif

}  // namespace

OnDemandCorrBlock::OnDemandCorrBlock(const torch::Tensor& fmap1, const torch::Tensor& fmap2, int num_levels,
                                     int radius)
    : num_levels_(num_levels), radius_(radius) {
  if (fmap1.dim() != 4 || fmap1.sizes() != fmap2.sizes())
    throw std::invalid_argument("OnDemandCorrBlock: feature maps must be [B, C, h, w] of equal shape, got " +
                                c10::str(fmap1.sizes()) + " and " + c10::str(fmap2.sizes()));
  if (num_levels < 1 || radius < 0 || radius > 32) throw std::invalid_argument("OnDemandCorrBlock: bad levels/radius");
  const int64_t batch = fmap1.size(0), dim = fmap1.size(1), ht = fmap1.size(2), wd = fmap1.size(3);
  if ((ht >> (num_levels - 1)) < 1 || (wd >> (num_levels - 1)) < 1)
    throw std::invalid_argument("OnDemandCorrBlock: " + std::to_string(ht) + "x" + std::to_string(wd) +
                                " feature map is too small for " + std::to_string(num_levels) + " levels");
  if (!(fmap1.is_cpu() || fmap1.is_cuda()))
    throw std::invalid_argument("OnDemandCorrBlock: feature maps on the CPU or a CUDA device expected");
  needs_grad_ = torch::GradMode::is_enabled() && (fmap1.requires_grad() || fmap2.requires_grad());
  norm_ = std::sqrt(static_cast<float>(dim));
  f1_ = fmap1.to(torch::kFloat).permute({0, 2, 3, 1}).reshape({batch, ht * wd, dim}).contiguous();
  auto f2 = fmap2.to(torch::kFloat);
  for (int i = 0; i < num_levels; ++i) {
    if (i > 0) f2 = F::avg_pool2d(f2, F::AvgPool2dFuncOptions(2).stride(2));
    f2_.push_back(f2.permute({0, 2, 3, 1}).contiguous());
  }
}

torch::Tensor OnDemandCorrBlock::operator()(const torch::Tensor& coords) const {
  if (coords.dim() != 4 || coords.size(1) != 2 || coords.size(0) != f1_.size(0) ||
      coords.size(2) * coords.size(3) != f1_.size(1))
    throw std::invalid_argument("OnDemandCorrBlock: coords must be [B, 2, h, w] of the feature maps, got " +
                                c10::str(coords.sizes()));
  if (needs_grad_ || (torch::GradMode::is_enabled() && coords.requires_grad()))
    throw std::logic_error("OnDemandCorrBlock: on-demand correlation is for inference (no gradient); "
                           "training uses the all-pairs volume");
  const auto xy = coords.to(f1_.device(), torch::kFloat).contiguous();
  const int64_t batch = xy.size(0), ht = xy.size(2), wd = xy.size(3), hw = ht * wd, dim = f1_.size(2);
  const int64_t k = 2 * radius_ + 1, kk = k * k, channels = num_levels_ * kk;
#ifdef ANIMERUN_WITH_CUDA
  if (xy.is_cuda()) {
    std::vector<torch::Tensor> levels;
    for (int i = 0; i < num_levels_; ++i)
      levels.push_back(cuda::OnDemandLevelLookup(f1_, f2_[i], xy, i, radius_, norm_));  // [B, h, w, kk]
    return torch::cat(levels, -1).permute({0, 3, 1, 2});
  }
#endif
  if (!xy.is_cpu()) throw std::invalid_argument("OnDemandCorrBlock: this build has no CUDA kernels");
  auto out = torch::empty({batch, ht, wd, channels}, xy.options());
  const float* cptr = xy.data_ptr<float>();
  const float* f1 = f1_.data_ptr<float>();
  float* optr = out.data_ptr<float>();
  static const DotFn dot = PickDot();
  at::parallel_for(0, batch * hw, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> patch((k + 1) * (k + 1));
    for (int64_t n = begin; n < end; ++n) {
      const int64_t b = n / hw, p = n % hw;
      const float cx = cptr[(b * 2) * hw + p], cy = cptr[(b * 2 + 1) * hw + p];
      const float* q = f1 + n * dim;
      for (int i = 0; i < num_levels_; ++i) {
        const int64_t lh = f2_[i].size(1), lw = f2_[i].size(2);
        const float* f2 = f2_[i].data_ptr<float>() + b * lh * lw * dim;
        float* o = optr + n * channels + i * kk;
        corr_window::Window win;
        if (!corr_window::PlaceWindow(cx, cy, 1.f / static_cast<float>(int64_t{1} << i), lh, lw, radius_, &win)) {
          std::fill(o, o + kk, 0.f);
          continue;
        }
        for (int64_t a = 0; a <= k; ++a) {
          const int64_t xx = win.x0 + a;
          for (int64_t c = 0; c <= k; ++c) {
            const int64_t yy = win.y0 + c;
            patch[a * (k + 1) + c] =
                (xx >= 0 && xx < lw && yy >= 0 && yy < lh) ? dot(q, f2 + (yy * lw + xx) * dim, dim) / norm_ : 0.f;
          }
        }
        corr_window::CombineWindow(patch.data(), win, k, o);
      }
    }
  });
  return out.permute({0, 3, 1, 2});
}

std::unique_ptr<CorrLookup> MakeCorrLookup(const torch::Tensor& fmap1, const torch::Tensor& fmap2, int num_levels,
                                           int radius, CorrMode mode) {
  if (mode == CorrMode::kAuto) {
    const bool grad = torch::GradMode::is_enabled() && (fmap1.requires_grad() || fmap2.requires_grad());
    const int64_t bytes = AllPairsPyramidBytes(fmap1.size(0), fmap1.size(2), fmap1.size(3), num_levels);
    mode = !grad && bytes > kOnDemandAboveBytes ? CorrMode::kOnDemand : CorrMode::kAllPairs;
  }
  if (mode == CorrMode::kOnDemand) return std::make_unique<OnDemandCorrBlock>(fmap1, fmap2, num_levels, radius);
  return std::make_unique<CorrBlock>(fmap1, fmap2, num_levels, radius);
}

}  // namespace animerun::models
