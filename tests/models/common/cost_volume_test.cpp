// The fused CPU cost volume against the tensor-op reference (PWC-Net's mean and GMFlow's sqrt(C) divisors): values, both gradients, maps
// smaller than the 9x9 window, strided inputs, and the paths that keep the reference.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "models/common/cost_volume.h"

namespace animerun::models {
namespace {

// PWC-Net's divisor (the mean over channels) unless a test says otherwise.
torch::Tensor Fused(const torch::Tensor& one, const torch::Tensor& two) {
  return LocalCostVolume(one, two, 4, static_cast<double>(one.size(1)));
}
torch::Tensor Reference(const torch::Tensor& one, const torch::Tensor& two) {
  return LocalCostVolumeReference(one, two, 4, static_cast<double>(one.size(1)));
}

struct Grads {
  torch::Tensor out, one, two;
};

// Output and gradients of sum(out * weight) through `fn`, for one and two.
template <typename Fn>
Grads RunGrads(Fn fn, const torch::Tensor& one, const torch::Tensor& two, const torch::Tensor& weight) {
  auto a = one.detach().clone().requires_grad_(true);
  auto b = two.detach().clone().requires_grad_(true);
  auto out = fn(a, b);
  (out * weight).sum().backward();
  return {out.detach(), a.grad(), b.grad()};
}

double MaxDiff(const torch::Tensor& x, const torch::Tensor& y) { return (x - y).abs().max().item<double>(); }

void ExpectFusedMatchesReference(int64_t b, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  torch::manual_seed(seed);
  auto one = torch::randn({b, c, h, w}), two = torch::randn({b, c, h, w});
  auto weight = torch::randn({b, 81, h, w});
  const auto fused = RunGrads(Fused, one, two, weight);
  const auto ref = RunGrads(Reference, one, two, weight);
  SCOPED_TRACE(c10::str(b, "x", c, "x", h, "x", w));
  ASSERT_EQ(fused.out.sizes(), ref.out.sizes());
  EXPECT_LT(MaxDiff(fused.out, ref.out), 1e-5);
  EXPECT_LT(MaxDiff(fused.one, ref.one), 1e-5);
  EXPECT_LT(MaxDiff(fused.two, ref.two), 1e-5);
  // Not vacuous: every gradient has mass.
  EXPECT_GT(fused.one.abs().sum().item<double>(), 0.0);
  EXPECT_GT(fused.two.abs().sum().item<double>(), 0.0);
}

TEST(FusedCostVolume, ValuesAndGradientsMatchTheReference) {
  ExpectFusedMatchesReference(2, 7, 12, 19, 1);   // larger than the window both ways
  ExpectFusedMatchesReference(1, 32, 24, 48, 2);  // level-2 channel count
  ExpectFusedMatchesReference(3, 3, 5, 4, 3);     // smaller than the window: rows/columns clip
  ExpectFusedMatchesReference(1, 1, 1, 1, 4);     // a single pixel: only the centre channel
}

TEST(FusedCostVolume, GmflowDivisor) {
  torch::manual_seed(8);
  auto one = torch::randn({2, 16, 7, 13}), two = torch::randn({2, 16, 7, 13});
  auto weight = torch::randn({2, 81, 7, 13});
  const double divisor = std::sqrt(16.0);
  auto fused = [&](const torch::Tensor& a, const torch::Tensor& b) { return LocalCostVolume(a, b, 4, divisor); };
  auto ref = [&](const torch::Tensor& a, const torch::Tensor& b) { return LocalCostVolumeReference(a, b, 4, divisor); };
  const auto got = RunGrads(fused, one, two, weight), want = RunGrads(ref, one, two, weight);
  EXPECT_LT(MaxDiff(got.out, want.out), 1e-5);
  EXPECT_LT(MaxDiff(got.one, want.one), 1e-5);
  EXPECT_LT(MaxDiff(got.two, want.two), 1e-5);
  // The centre channel at a pixel is the plain dot product over the divisor.
  const double centre = (one.select(3, 5).select(2, 3).select(0, 1) * two.select(3, 5).select(2, 3).select(0, 1)).sum().item<double>();
  EXPECT_NEAR(got.out.index({1, 40, 3, 5}).item().toDouble(), centre / divisor, 1e-5);
}

TEST(FusedCostVolume, OtherRadii) {
  torch::manual_seed(9);
  auto one = torch::randn({2, 5, 8, 11}), two = torch::randn({2, 5, 8, 11});
  for (int64_t radius : {0, 1, 2, 6}) {
    const int64_t span = 2 * radius + 1;
    auto weight = torch::randn({2, span * span, 8, 11});
    auto fused = [&](const torch::Tensor& a, const torch::Tensor& b) { return LocalCostVolume(a, b, radius, 5.0); };
    auto ref = [&](const torch::Tensor& a, const torch::Tensor& b) {
      return LocalCostVolumeReference(a, b, radius, 5.0);
    };
    const auto got = RunGrads(fused, one, two, weight), want = RunGrads(ref, one, two, weight);
    ASSERT_EQ(got.out.size(1), span * span) << "radius " << radius;
    EXPECT_LT(MaxDiff(got.out, want.out), 1e-5) << "radius " << radius;
    EXPECT_LT(MaxDiff(got.one, want.one), 1e-5) << "radius " << radius;
    EXPECT_LT(MaxDiff(got.two, want.two), 1e-5) << "radius " << radius;
  }
  EXPECT_THROW(LocalCostVolume(one, two, -1, 1.0), std::invalid_argument);
}

TEST(FusedCostVolume, GradientOfOneInputOnly) {
  torch::manual_seed(5);
  auto one = torch::randn({1, 4, 9, 10}).requires_grad_(true);
  auto two = torch::randn({1, 4, 9, 10});
  auto weight = torch::randn({1, 81, 9, 10});
  (Fused(one, two) * weight).sum().backward();
  auto ref_one = one.detach().clone().requires_grad_(true);
  (Reference(ref_one, two) * weight).sum().backward();
  EXPECT_LT(MaxDiff(one.grad(), ref_one.grad()), 1e-5);
  EXPECT_FALSE(two.grad().defined());
}

TEST(FusedCostVolume, StridedInputsAndInferenceMode) {
  torch::manual_seed(6);
  // Channels-last memory: a permuted view, not contiguous in NCHW.
  auto one = torch::randn({2, 6, 11, 5}).permute({0, 3, 1, 2});
  auto two = torch::randn({2, 6, 11, 5}).permute({0, 3, 1, 2});
  ASSERT_FALSE(one.is_contiguous());
  const auto ref = Reference(one, two);
  EXPECT_LT(MaxDiff(Fused(one, two), ref), 1e-5);
  torch::InferenceMode guard;
  EXPECT_LT(MaxDiff(Fused(one, two), ref), 1e-5);
}

TEST(FusedCostVolume, OtherTypesTakeTheReferenceAndShapesAreChecked) {
  torch::manual_seed(7);
  auto one = torch::randn({1, 4, 6, 7}, torch::kDouble), two = torch::randn({1, 4, 6, 7}, torch::kDouble);
  EXPECT_EQ(Fused(one, two).scalar_type(), torch::kDouble);
  EXPECT_LT(MaxDiff(Fused(one, two), Reference(one, two)), 1e-12);
  EXPECT_THROW(Fused(torch::randn({1, 4, 6, 7}), torch::randn({1, 4, 6, 8})), std::invalid_argument);
  EXPECT_THROW(Fused(torch::randn({4, 6, 7}), torch::randn({4, 6, 7})), std::invalid_argument);
}

}  // namespace
}  // namespace animerun::models
