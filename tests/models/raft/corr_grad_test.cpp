// The correlation lookup's fast kernels (CPU; CUDA on a GPU machine) against autograd through
// the original grid_sample formulation: values and gradients of both feature maps (through
// the pyramid) and of the coordinates, with windows inside, across and wholly outside.
#include <gtest/gtest.h>

#include "models/golden_util.h"
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

// The fast lookup on `device` (the CPU kernel, or the CUDA kernels on a CUDA device) against
// autograd through grid_sample on the same device.
void ExpectLookupMatchesGridSample(const torch::Device& device) {
  torch::manual_seed(11);
  const int64_t h = 16, w = 24;
  const auto f1 = torch::randn({2, 8, h, w}).to(device), f2 = torch::randn({2, 8, h, w}).to(device);
  for (int r : {3, 4}) {
    auto coords = CoordsGrid(2, h, w, torch::kCPU) + torch::randn({2, 2, h, w}) * 5;
    coords.index_put_({1, 0, 3, 4}, 1e5f);    // wholly outside: no gradient
    coords.index_put_({0, 1, 2, 2}, -6.25f);  // window across the top border
    coords = coords.to(device);
    const int64_t k = 2 * r + 1;
    const auto upstream = torch::randn({2, 4 * k * k, h, w}).to(device);
    const Grads fast = RunLookup(f1, f2, coords, upstream, r, false);
    const Grads ref = RunLookup(f1, f2, coords, upstream, r, true);
    ASSERT_TRUE(fast.f1.defined() && fast.f2.defined() && fast.coords.defined());
    EXPECT_LT(RelDiff(fast.out, ref.out), 1e-5) << "radius " << r;
    EXPECT_LT(RelDiff(fast.f1, ref.f1), 1e-5) << "radius " << r;
    EXPECT_LT(RelDiff(fast.f2, ref.f2), 1e-5) << "radius " << r;
    EXPECT_LT(RelDiff(fast.coords, ref.coords), 1e-5) << "radius " << r;
    EXPECT_EQ(fast.coords[1][0][3][4].item<float>(), 0.f);
    EXPECT_GT(fast.coords.abs().sum().item<float>(), 0.f);
    // Inference (no graph) gives the same values as the training path.
    torch::NoGradGuard no_grad;
    CorrBlock corr(f1, f2, 4, r);
    EXPECT_LT(RelDiff(corr(coords), ref.out), 1e-5) << "radius " << r;
  }
}

TEST(CorrBlockGrad, CpuBackwardMatchesGridSampleAutograd) { ExpectLookupMatchesGridSample(torch::kCPU); }

// The CUDA kernels (models/common/corr_lookup_cuda.cu), on a GPU machine:
// ANIMERUN_TEST_DEVICE=cuda (packaging/gpu_check.sh runs every models test so).
TEST(CorrBlockGrad, ParityDeviceKernelMatchesGridSampleAutograd) {
  const torch::Device device = test::ParityDevice();
  if (device.is_cpu()) GTEST_SKIP() << "ANIMERUN_TEST_DEVICE is cpu: the CPU kernel is checked above";
  ExpectLookupMatchesGridSample(device);
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
