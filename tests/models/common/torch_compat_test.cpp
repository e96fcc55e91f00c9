// The LibTorch version shim behaves the same against 1.13 and 2.x.
#include "models/common/torch_compat.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace animerun::models::compat {
namespace {

namespace F = torch::nn::functional;

TEST(CpuAutocast, RunsConvInBf16AndGridSampleInFp32ThenRestores) {
  torch::manual_seed(0);
  const auto x = torch::randn({1, 8, 16, 16});
  const auto w = torch::randn({4, 8, 3, 3});
  const auto grid = torch::rand({1, 5, 5, 2}) * 2 - 1;
  const auto conv_fp32 = F::conv2d(x, w, F::Conv2dFuncOptions().padding(1));
  ASSERT_FALSE(CpuAutocast::IsEnabled());
  {
    CpuAutocast autocast(torch::kBFloat16);
    EXPECT_TRUE(CpuAutocast::IsEnabled());
    EXPECT_EQ(CpuAutocast::Dtype(), torch::kBFloat16);
    const auto conv = F::conv2d(x, w, F::Conv2dFuncOptions().padding(1));
    EXPECT_EQ(conv.scalar_type(), torch::kBFloat16);
    // bf16 keeps 8 bits of mantissa: close to fp32, but not equal.
    const double rel = ((conv.to(torch::kFloat) - conv_fp32).abs().max() / conv_fp32.abs().max()).item<double>();
    EXPECT_GT(rel, 0.0);
    EXPECT_LT(rel, 2e-2);
    // grid_sample is on autocast's fp32 list, even with a bf16 input.
    const auto s = F::grid_sample(conv, grid, F::GridSampleFuncOptions().align_corners(false));
    EXPECT_EQ(s.scalar_type(), torch::kFloat);
    {
      CpuAutocast off(torch::kBFloat16, /*enabled=*/false);
      EXPECT_FALSE(CpuAutocast::IsEnabled());
      EXPECT_EQ(F::conv2d(x, w).scalar_type(), torch::kFloat);
    }
    EXPECT_TRUE(CpuAutocast::IsEnabled());  // the inner scope restored the outer state
  }
  EXPECT_FALSE(CpuAutocast::IsEnabled());
  EXPECT_EQ(F::conv2d(x, w).scalar_type(), torch::kFloat);
}

TEST(CpuAutocast, GradientsOfFp32WeightsStayFp32) {
  auto w = torch::randn({4, 8, 3, 3}, torch::requires_grad());
  const auto x = torch::randn({2, 8, 10, 10});
  {
    CpuAutocast autocast;
    F::conv2d(x, w).to(torch::kFloat).square().mean().backward();
  }
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::isfinite(w.grad()).all().item<bool>());
}

TEST(TorchCompat, VersionMacroMatchesTheLibTorchBuiltAgainst) {
  EXPECT_TRUE(ANIMERUN_TORCH_AT_LEAST(1, 13));
  EXPECT_TRUE(ANIMERUN_TORCH_AT_LEAST(TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR));
  EXPECT_FALSE(ANIMERUN_TORCH_AT_LEAST(TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR + 1));
  EXPECT_FALSE(ANIMERUN_TORCH_AT_LEAST(TORCH_VERSION_MAJOR + 1, 0));
}

}  // namespace
}  // namespace animerun::models::compat
