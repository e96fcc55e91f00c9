// The CPU correlation lookup's backward (training) against autograd through the original
// grid_sample formulation: gradients of both feature maps (through the pyramid) and of the
// coordinates, with windows inside, across and wholly outside the volume.
#include <gtest/gtest.h>

#include "models/common/corr_block.h"

namespace animerun::models {
namespace {

struct Grads {
  torch::Tensor out, f1, f2, coords;
};

Grads RunLookup(const torch::Tensor& f1_in, const torch::Tensor& f2_in, const torch::Tensor& coords_in,
          const torch::Tensor& upstream, int radius, bool reference) {
  auto f1 = f1_in.clone().requires_grad_(true), f2 = f2_in.clone().requires_grad_(true);
  auto coords = coords_in.clone().requires_grad_(true);
  CorrBlock corr(f1, f2, 4, radius);
  auto out = reference ? corr.LookupReference(coords) : corr(coords);
  (out * upstream).sum().backward();
  return {out.detach(), f1.grad(), f2.grad(), coords.grad()};
}

float RelDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<float>() / std::max(1e-12f, b.abs().max().item<float>());
}

TEST(CorrBlockGrad, CpuBackwardMatchesGridSampleAutograd) {
  torch::manual_seed(11);
  const int64_t h = 16, w = 24;
  const auto f1 = torch::randn({2, 8, h, w}), f2 = torch::randn({2, 8, h, w});
  for (int r : {3, 4}) {
    auto coords = CoordsGrid(2, h, w, torch::kCPU) + torch::randn({2, 2, h, w}) * 5;
    coords.index_put_({1, 0, 3, 4}, 1e5f);    // wholly outside: no gradient
    coords.index_put_({0, 1, 2, 2}, -6.25f);  // window across the top border
    const int64_t k = 2 * r + 1;
    const auto upstream = torch::randn({2, 4 * k * k, h, w});
    const Grads fast = RunLookup(f1, f2, coords, upstream, r, false);
    const Grads ref = RunLookup(f1, f2, coords, upstream, r, true);
    ASSERT_TRUE(fast.f1.defined() && fast.f2.defined() && fast.coords.defined());
    EXPECT_LT(RelDiff(fast.out, ref.out), 1e-5) << "radius " << r;
    EXPECT_LT(RelDiff(fast.f1, ref.f1), 1e-5) << "radius " << r;
    EXPECT_LT(RelDiff(fast.f2, ref.f2), 1e-5) << "radius " << r;
    EXPECT_LT(RelDiff(fast.coords, ref.coords), 1e-5) << "radius " << r;
    EXPECT_EQ(fast.coords[1][0][3][4].item<float>(), 0.f);
    EXPECT_GT(fast.coords.abs().sum().item<float>(), 0.f);
  }
}

TEST(CorrBlockGrad, InferencePathNeedsNoGraph) {
  // Without a gradient wanted the fused kernel runs: same values as the autograd path.
  torch::manual_seed(12);
  const auto f1 = torch::randn({1, 8, 8, 16}), f2 = torch::randn({1, 8, 8, 16});
  const auto coords = CoordsGrid(1, 8, 16, torch::kCPU) + torch::randn({1, 2, 8, 16}) * 3;
  torch::Tensor plain;
  {
    torch::NoGradGuard no_grad;
    plain = CorrBlock(f1, f2, 4, 4)(coords);
  }
  auto g1 = f1.clone().requires_grad_(true);
  auto with_grad = CorrBlock(g1, f2, 4, 4)(coords);
  EXPECT_TRUE(with_grad.requires_grad());
  EXPECT_FALSE(plain.requires_grad());
  EXPECT_EQ((plain - with_grad.detach()).abs().max().item<float>(), 0.f);
}

}  // namespace
}  // namespace animerun::models
