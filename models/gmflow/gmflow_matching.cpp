#include "models/gmflow/gmflow_matching.h"

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
  auto correlation = torch::matmul(f0, f1).view({b, h, w, h, w}) / std::sqrt(static_cast<double>(c));
  auto init_grid = CoordsGrid(b, h, w, feature0.device());
  auto grid = init_grid.view({b, 2, -1}).permute({0, 2, 1});  // [B, HW, 2]
  correlation = correlation.view({b, h * w, h * w});
  auto prob = torch::softmax(correlation, -1);
  auto correspondence = torch::matmul(prob, grid).view({b, h, w, 2}).permute({0, 3, 1, 2});
  return correspondence - init_grid;
}

torch::Tensor LocalCorrelationSoftmax(const torch::Tensor& feature0, const torch::Tensor& feature1, int64_t r) {
  const int64_t b = feature0.size(0), c = feature0.size(1), h = feature0.size(2), w = feature0.size(3);
  const auto device = feature0.device();
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto coords_init = CoordsGrid(b, h, w, device);
  auto coords = coords_init.view({b, 2, -1}).permute({0, 2, 1});  // [B, HW, 2]

  // Window offsets in raster order (dy major), as (dx, dy).
  const int64_t n = 2 * r + 1;
  auto d = torch::arange(-r, r + 1, opts);
  auto window_grid = torch::stack({d.view({1, n}).expand({n, n}), d.view({n, 1}).expand({n, n})}, -1);
  window_grid = window_grid.reshape({-1, 2}).repeat({b, 1, 1, 1});  // [B, 1, n*n, 2]
  auto sample_coords = coords.unsqueeze(-2) + window_grid;           // [B, HW, n*n, 2]

  using torch::indexing::Slice;
  auto sx = sample_coords.select(3, 0), sy = sample_coords.select(3, 1);
  auto valid = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h);

  auto half = torch::tensor({(w - 1) / 2.0, (h - 1) / 2.0}, opts);
  auto sample_coords_norm = (sample_coords - half) / half;
  auto window_feature = F::grid_sample(feature1, sample_coords_norm,
                                       F::GridSampleFuncOptions()
                                           .mode(torch::kBilinear)
                                           .padding_mode(torch::kZeros)
                                           .align_corners(true))
                            .permute({0, 2, 1, 3});  // [B, HW, C, n*n]
  auto feature0_view = feature0.permute({0, 2, 3, 1}).view({b, h * w, 1, c});
  auto corr = torch::matmul(feature0_view, window_feature).view({b, h * w, -1}) / std::sqrt(static_cast<double>(c));
  corr.masked_fill_(valid.logical_not(), -1e9);
  auto prob = torch::softmax(corr, -1);
  auto correspondence =
      torch::matmul(prob.unsqueeze(-2), sample_coords).squeeze(-2).view({b, h, w, 2}).permute({0, 3, 1, 2});
  return correspondence - coords_init;
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
