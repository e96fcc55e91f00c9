#include "models/common/corr_lookup_cuda.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include <stdexcept>
#include <string>

namespace animerun::models::cuda {
namespace {

constexpr int kThreads = 256;

// Where the window of one query pixel lies in a level (the CPU kernel's PlaceWindow): false
// when the coordinate is not finite or the window lies wholly outside.
struct Window {
  int64_t x0, y0;  // top-left patch pixel (may be outside)
  float fx, fy;    // bilinear fractions
};

__device__ __forceinline__ bool PlaceWindow(float cx, float cy, float scale, int64_t lh, int64_t lw, int radius,
                                            Window* win) {
  const int k = 2 * radius + 1;
  const float px = cx * scale, py = cy * scale;
  if (!isfinite(px) || !isfinite(py) || px < -k - 1 || py < -k - 1 || px > lw + k || py > lh + k) return false;
  const float fx0 = floorf(px), fy0 = floorf(py);
  win->fx = px - fx0;
  win->fy = py - fy0;
  win->x0 = static_cast<int64_t>(fx0) - radius;
  win->y0 = static_cast<int64_t>(fy0) - radius;
  return true;
}

__device__ __forceinline__ float At(const float* img, int64_t x, int64_t y, int64_t lh, int64_t lw) {
  return (x >= 0 && x < lw && y >= 0 && y < lh) ? img[y * lw + x] : 0.f;
}

// Output sample idx of [B*h*w, (2r+1)^2]: its query pixel n, its window offsets (a, c) and
// the window's placement in the level. False when the window is not placed (the sample is 0).
struct Sample {
  int64_t n;
  int a, c;
  Window win;
};
__device__ __forceinline__ bool LocateSample(int64_t idx, const float* xy, int64_t hw, int64_t lh, int64_t lw,
                                             float scale, int radius, Sample* s) {
  const int k = 2 * radius + 1, kk = k * k;
  s->n = idx / kk;
  const int64_t b = s->n / hw, p = s->n % hw;
  const int q = static_cast<int>(idx % kk);
  s->a = q / k;
  s->c = q % k;
  return PlaceWindow(xy[(b * 2) * hw + p], xy[(b * 2 + 1) * hw + p], scale, lh, lw, radius, &s->win);
}

// The bilinear sample from the values at (x, y), (x+1, y), (x, y+1), (x+1, y+1).
__device__ __forceinline__ float Bilinear(const Window& w, float v00, float v10, float v01, float v11) {
  return (1 - w.fx) * (1 - w.fy) * v00 + w.fx * (1 - w.fy) * v10 + (1 - w.fx) * w.fy * v01 + w.fx * w.fy * v11;
}

// One thread per output sample (query pixel n, window sample s).
__global__ void LookupForwardKernel(const float* __restrict__ level, const float* __restrict__ xy,
                                    float* __restrict__ out, int64_t queries, int64_t hw, int64_t lh, int64_t lw,
                                    float scale, int radius) {
  const int k = 2 * radius + 1;
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= queries * k * k) return;
  Sample s;
  if (!LocateSample(idx, xy, hw, lh, lw, scale, radius, &s)) {
    out[idx] = 0.f;
    return;
  }
  const float* img = level + s.n * lh * lw;
  const int64_t x = s.win.x0 + s.a, y = s.win.y0 + s.c;
  out[idx] = Bilinear(s.win, At(img, x, y, lh, lw), At(img, x + 1, y, lh, lw), At(img, x, y + 1, lh, lw),
                      At(img, x + 1, y + 1, lh, lw));
}

__device__ __forceinline__ void AddAt(float* img, int64_t x, int64_t y, int64_t lh, int64_t lw, float v) {
  if (x >= 0 && x < lw && y >= 0 && y < lh) img[y * lw + x] += v;
}

// One thread per query pixel: its window's samples in order, so the sums are deterministic
// and no two threads write the same gradient element (each query owns its image).
__global__ void LookupBackwardKernel(const float* __restrict__ level, const float* __restrict__ xy,
                                     const float* __restrict__ g, float* __restrict__ g_level,
                                     float* __restrict__ g_xy, int64_t queries, int64_t hw, int64_t lh, int64_t lw,
                                     float scale, int radius) {
  const int64_t n = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n >= queries) return;
  const int k = 2 * radius + 1;
  const int64_t b = n / hw, p = n % hw;
  Window win;
  if (!PlaceWindow(xy[(b * 2) * hw + p], xy[(b * 2 + 1) * hw + p], scale, lh, lw, radius, &win)) return;
  const float* img = level + n * lh * lw;
  float* dst = g_level + n * lh * lw;
  const float* go = g + n * k * k;
  const float fx = win.fx, fy = win.fy;
  const float nw = (1 - fx) * (1 - fy), ne = fx * (1 - fy), sw = (1 - fx) * fy, se = fx * fy;
  double dfx = 0.0, dfy = 0.0;
  for (int a = 0; a < k; ++a) {
    const int64_t x = win.x0 + a;
    for (int c = 0; c < k; ++c) {
      const int64_t y = win.y0 + c;
      const float gv = go[a * k + c];
      const float v00 = At(img, x, y, lh, lw), v10 = At(img, x + 1, y, lh, lw);
      const float v01 = At(img, x, y + 1, lh, lw), v11 = At(img, x + 1, y + 1, lh, lw);
      AddAt(dst, x, y, lh, lw, nw * gv);
      AddAt(dst, x + 1, y, lh, lw, ne * gv);
      AddAt(dst, x, y + 1, lh, lw, sw * gv);
      AddAt(dst, x + 1, y + 1, lh, lw, se * gv);
      dfx += gv * ((1 - fy) * (v10 - v00) + fy * (v11 - v01));
      dfy += gv * ((1 - fx) * (v01 - v00) + fx * (v11 - v10));
    }
  }
  g_xy[(b * 2) * hw + p] = static_cast<float>(dfx * scale);
  g_xy[(b * 2 + 1) * hw + p] = static_cast<float>(dfy * scale);
}

// On demand, pass 1: one thread per (query pixel n, patch pixel q): the correlation of n's
// feature with the level's pooled feature at that patch pixel (0 outside the level or when
// the window is not placed).
__global__ void OnDemandPatchKernel(const float* __restrict__ f1, const float* __restrict__ f2,
                                    const float* __restrict__ xy, float* __restrict__ patch, int64_t queries,
                                    int64_t hw, int64_t lh, int64_t lw, int64_t dim, float scale, float norm,
                                    int radius) {
  const int k1 = 2 * radius + 2, pp = k1 * k1;
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= queries * pp) return;
  const int64_t n = idx / pp, b = n / hw, p = n % hw;
  const int q = static_cast<int>(idx % pp), a = q / k1, c = q % k1;
  Window win;
  float v = 0.f;
  if (PlaceWindow(xy[(b * 2) * hw + p], xy[(b * 2 + 1) * hw + p], scale, lh, lw, radius, &win)) {
    const int64_t x = win.x0 + a, y = win.y0 + c;
    if (x >= 0 && x < lw && y >= 0 && y < lh) {
      const float* u = f1 + n * dim;
      const float* w = f2 + ((b * lh + y) * lw + x) * dim;
      float s = 0.f;
      for (int64_t i = 0; i < dim; ++i) s = fmaf(u[i], w[i], s);
      v = s / norm;
    }
  }
  patch[idx] = v;
}

// On demand, pass 2: one thread per output sample, four reads of the patch.
__global__ void OnDemandCombineKernel(const float* __restrict__ patch, const float* __restrict__ xy,
                                      float* __restrict__ out, int64_t queries, int64_t hw, int64_t lh, int64_t lw,
                                      float scale, int radius) {
  const int k = 2 * radius + 1, k1 = k + 1;
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= queries * k * k) return;
  Sample s;
  if (!LocateSample(idx, xy, hw, lh, lw, scale, radius, &s)) {
    out[idx] = 0.f;
    return;
  }
  const float* pt = patch + s.n * k1 * k1 + s.a * k1 + s.c;
  out[idx] = Bilinear(s.win, pt[0], pt[k1], pt[1], pt[k1 + 1]);
}

void CheckInputs(const at::Tensor& level, const at::Tensor& xy, int64_t radius) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("CorrBlock (CUDA): " + what); };
  if (!level.is_cuda() || !xy.is_cuda() || level.device() != xy.device())
    fail("the correlation level and the coordinates must be on one CUDA device");
  if (level.scalar_type() != at::kFloat || xy.scalar_type() != at::kFloat) fail("float32 tensors expected");
  if (!level.is_contiguous() || !xy.is_contiguous()) fail("contiguous tensors expected");
  if (level.dim() != 4 || level.size(1) != 1 || xy.dim() != 4 || xy.size(1) != 2 ||
      level.size(0) != xy.size(0) * xy.size(2) * xy.size(3))
    fail("level [B*h*w, 1, lh, lw] and coordinates [B, 2, h, w] expected, got " + c10::str(level.sizes()) + " and " +
         c10::str(xy.sizes()));
  if (radius < 0 || radius > 32) fail("radius " + std::to_string(radius) + " out of range");
}

unsigned Blocks(int64_t threads) { return static_cast<unsigned>((threads + kThreads - 1) / kThreads); }

}  // namespace

at::Tensor CorrLevelLookupForward(const at::Tensor& level, const at::Tensor& xy, int64_t level_index, int64_t radius) {
  CheckInputs(level, xy, radius);
  const c10::cuda::CUDAGuard guard(xy.device());
  const int64_t batch = xy.size(0), hw = xy.size(2) * xy.size(3), k = 2 * radius + 1;
  auto out = at::empty({batch, xy.size(2), xy.size(3), k * k}, xy.options());
  const int64_t total = batch * hw * k * k;
  if (total == 0) return out;
  const float scale = 1.f / static_cast<float>(int64_t{1} << level_index);
  LookupForwardKernel<<<Blocks(total), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      level.data_ptr<float>(), xy.data_ptr<float>(), out.data_ptr<float>(), batch * hw, hw, level.size(2),
      level.size(3), scale, static_cast<int>(radius));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

std::pair<at::Tensor, at::Tensor> CorrLevelLookupBackward(const at::Tensor& level, const at::Tensor& xy,
                                                          const at::Tensor& g, int64_t level_index, int64_t radius) {
  CheckInputs(level, xy, radius);
  const c10::cuda::CUDAGuard guard(xy.device());
  const int64_t batch = xy.size(0), hw = xy.size(2) * xy.size(3), k = 2 * radius + 1;
  const auto gc = g.to(at::kFloat).contiguous();
  if (gc.numel() != batch * hw * k * k || gc.device() != xy.device())
    throw std::invalid_argument("CorrBlock (CUDA): upstream gradient " + c10::str(g.sizes()) + " does not fit");
  auto g_level = at::zeros_like(level);
  auto g_xy = at::zeros_like(xy);
  if (batch * hw == 0) return {g_xy, g_level};
  const float scale = 1.f / static_cast<float>(int64_t{1} << level_index);
  LookupBackwardKernel<<<Blocks(batch * hw), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      level.data_ptr<float>(), xy.data_ptr<float>(), gc.data_ptr<float>(), g_level.data_ptr<float>(),
      g_xy.data_ptr<float>(), batch * hw, hw, level.size(2), level.size(3), scale, static_cast<int>(radius));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {g_xy, g_level};
}

at::Tensor OnDemandLevelLookup(const at::Tensor& f1, const at::Tensor& f2, const at::Tensor& xy, int64_t level_index,
                               int64_t radius, float norm) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("OnDemandCorrBlock (CUDA): " + what); };
  if (!f1.is_cuda() || f1.device() != f2.device() || f1.device() != xy.device())
    fail("features and coordinates must be on one CUDA device");
  if (f1.scalar_type() != at::kFloat || f2.scalar_type() != at::kFloat || xy.scalar_type() != at::kFloat)
    fail("float32 tensors expected");
  if (!f1.is_contiguous() || !f2.is_contiguous() || !xy.is_contiguous()) fail("contiguous tensors expected");
  if (f1.dim() != 3 || f2.dim() != 4 || xy.dim() != 4 || xy.size(1) != 2 || f2.size(0) != f1.size(0) ||
      f2.size(3) != f1.size(2) || xy.size(0) != f1.size(0) || xy.size(2) * xy.size(3) != f1.size(1))
    fail("f1 [B, h*w, C], f2 [B, lh, lw, C] and coordinates [B, 2, h, w] expected, got " + c10::str(f1.sizes()) +
         ", " + c10::str(f2.sizes()) + " and " + c10::str(xy.sizes()));
  if (radius < 0 || radius > 32) fail("radius " + std::to_string(radius) + " out of range");
  const c10::cuda::CUDAGuard guard(xy.device());
  const int64_t batch = xy.size(0), hw = xy.size(2) * xy.size(3), k = 2 * radius + 1, k1 = k + 1;
  auto out = at::empty({batch, xy.size(2), xy.size(3), k * k}, xy.options());
  if (batch * hw == 0) return out;
  auto patch = at::empty({batch * hw, k1 * k1}, xy.options());
  const float scale = 1.f / static_cast<float>(int64_t{1} << level_index);
  const auto stream = at::cuda::getCurrentCUDAStream();
  OnDemandPatchKernel<<<Blocks(batch * hw * k1 * k1), kThreads, 0, stream>>>(
      f1.data_ptr<float>(), f2.data_ptr<float>(), xy.data_ptr<float>(), patch.data_ptr<float>(), batch * hw, hw,
      f2.size(1), f2.size(2), f2.size(3), scale, norm, static_cast<int>(radius));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  OnDemandCombineKernel<<<Blocks(batch * hw * k * k), kThreads, 0, stream>>>(
      patch.data_ptr<float>(), xy.data_ptr<float>(), out.data_ptr<float>(), batch * hw, hw, f2.size(1), f2.size(2),
      scale, static_cast<int>(radius));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace animerun::models::cuda
