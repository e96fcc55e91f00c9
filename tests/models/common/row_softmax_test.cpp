// The in-place scaled row softmax against LibTorch's softmax(x / scale).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>

#include "models/common/row_softmax.h"

namespace animerun::models {
namespace {

#define SKIP_WITHOUT_AVX512() \
  if (!RowSoftmaxApplies(torch::zeros({1, 4}))) GTEST_SKIP() << "this CPU has no AVX-512"

TEST(RowSoftmax, MatchesLibTorchInFloatAndBf16) {
  SKIP_WITHOUT_AVX512();
  torch::manual_seed(8);
  for (int64_t n : {1792, 100, 7}) {  // whole vectors, a tail, fewer than one vector
    const auto x = torch::randn({3, 5, n}) * 40;  // scores of various spreads, some exps underflow
    auto f = x.clone();
    RowSoftmaxInPlace(f, 11.3);
    const auto want = torch::softmax(x / 11.3, -1);
    EXPECT_LT((f - want).abs().max().item<double>(), 2e-6) << "n " << n;
    EXPECT_LT((f.sum(-1) - 1).abs().max().item<double>(), 1e-5);
    auto h = x.to(torch::kBFloat16);
    const auto want16 = torch::softmax(h.to(torch::kFloat) / 11.3, -1);
    RowSoftmaxInPlace(h, 11.3);
    ASSERT_EQ(h.scalar_type(), torch::kBFloat16);
    // One rounding to bf16: within half a bf16 step (at most 2^-8 relative) plus the fp32 error.
    EXPECT_LE(((h.to(torch::kFloat) - want16).abs() - want16 * (1.0 / 256)).max().item<double>(), 2e-6) << "n " << n;
  }
}

TEST(RowSoftmax, NanAndInfiniteRowsAsLibTorch) {
  SKIP_WITHOUT_AVX512();
  auto x = torch::zeros({3, 20});
  x[0][3] = NAN;
  x[1].fill_(-INFINITY);
  x[2][0] = -INFINITY;  // one masked entry: weight 0, the rest share 1
  RowSoftmaxInPlace(x, 1.0);
  EXPECT_TRUE(torch::isnan(x[0]).all().item<bool>());
  EXPECT_TRUE(torch::isnan(x[1]).all().item<bool>());
  EXPECT_EQ(x[2][0].item<float>(), 0.0f);
  EXPECT_NEAR(x[2][1].item<float>(), 1.0 / 19, 1e-7);
}

TEST(RowSoftmax, RefusesWhatItDoesNotTake) {
  SKIP_WITHOUT_AVX512();
  auto t = torch::randn({4, 8}).t();
  EXPECT_FALSE(RowSoftmaxApplies(t));
  EXPECT_THROW(RowSoftmaxInPlace(t, 1.0), std::invalid_argument);
  auto d = torch::randn({4, 8}, torch::kDouble);
  EXPECT_THROW(RowSoftmaxInPlace(d, 1.0), std::invalid_argument);
  auto f = torch::randn({4, 8});
  EXPECT_THROW(RowSoftmaxInPlace(f, 0.0), std::invalid_argument);
}

}  // namespace
}  // namespace animerun::models
