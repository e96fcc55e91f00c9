#include "models/gmflow/gmflow_matching.h"

#include "models/common/cost_volume.h"
#include "models/gmflow/gmflow_transformer.h"

#include <cmath>

namespace animerun::models::gmflow {

namespace F = torch::nn::functional;

torch::Tensor CoordsGrid(int64_t b, int64_t h, int64_t w, const torch::Device& device) {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto x = torch::arange(w, opts).view({1, w}).expand({h, w});
  auto y = torch::arange(h, opts).view({h, 1}).expand({h, w});
  return torch::stack({x, y}, 0).unsqueeze(0).repeat({b, 1, 1, 1});
}

torch::Tensor GlobalCorrelationSoftmax(const torch::Tensor& feature0, const torch::Tensor& feature1) {
  const int64_t b = feature0.size(0), c = feature0.size(1), h = feature0.size(2), w = feature0.size(3);
  auto f0 = feature0.view({b, c, -1}).permute({0, 2, 1});  // [B, HW, C]
  auto f1 = feature1.view({b, c, -1});                     // [B, C, HW]
  auto init_grid = CoordsGrid(b, h, w, feature0.device());
  auto grid = init_grid.view({b, 2, -1}).permute({0, 2, 1});  // [B, HW, 2]
  // softmax(f0 f1 / sqrt(C)) @ grid, chunked over query rows for large inputs.
  auto correspondence =
      SoftmaxAttention(f0, f1, grid, std::sqrt(static_cast<double>(c))).view({b, h, w, 2}).permute({0, 3, 1, 2});
  return correspondence - init_grid;
}

torch::Tensor LocalCorrelationSoftmax(const torch::Tensor& feature0, const torch::Tensor& feature1, int64_t r) {
  // The official code gathers a [B, HW, C, (2r+1)^2] window tensor with grid_sample at
  // integer offsets (5 GB for 1080p input). Here the same correlation is a sum of shifted
  // products over a zero-padded feature1 (the fused kernels of models/common/cost_volume.h),
  // and the expected correspondence is x + sum(prob * offset); the results agree to float
  // rounding (parity test).
  const int64_t c = feature0.size(1), h = feature0.size(2), w = feature0.size(3);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(feature0.device());
  const int64_t n = 2 * r + 1;
  // [B, H, W, n*n], dy major
  const auto scores = LocalCostVolume(feature0, feature1, r, std::sqrt(static_cast<double>(c))).permute({0, 2, 3, 1});

  // Window offsets (dx, dy) in the same order; targets outside the image are excluded.
  const auto d = torch::arange(-r, r + 1, opts);
  const auto offsets = torch::stack({d.view({1, n}).expand({n, n}), d.view({n, 1}).expand({n, n})}, -1).reshape({n * n, 2});
  const auto x = torch::arange(w, opts).view({1, w, 1}), y = torch::arange(h, opts).view({h, 1, 1});
  const auto tx = x + offsets.select(1, 0).view({1, 1, n * n}), ty = y + offsets.select(1, 1).view({1, 1, n * n});
  const auto valid = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h);  // [H, W, n*n]
  const auto prob = torch::softmax(scores.masked_fill(valid.logical_not(), -1e9), -1);
  return torch::matmul(prob, offsets).permute({0, 3, 1, 2});  // [B, 2, H, W]
}

torch::Tensor FlowWarp(const torch::Tensor& feature, const torch::Tensor& flow) {
  const int64_t b = feature.size(0), h = feature.size(2), w = feature.size(3);
  auto grid = CoordsGrid(b, h, w, flow.device()) + flow;  // [B, 2, H, W]
  auto x_grid = 2 * grid.select(1, 0) / (w - 1) - 1;
  auto y_grid = 2 * grid.select(1, 1) / (h - 1) - 1;
  return F::grid_sample(feature, torch::stack({x_grid, y_grid}, -1),
                        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(true));
}

}  // namespace animerun::models::gmflow
