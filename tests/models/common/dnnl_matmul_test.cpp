#include "models/common/dnnl_matmul.h"
#include "models/common/dnnl_winograd_conv.h"
#include "models/common/torch_compat.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace animerun::models {
namespace {

// The product in double: the reference every case is held to.
torch::Tensor MatmulInDouble(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::matmul(a.to(torch::kDouble), b.to(torch::kDouble));
}

double MatmulError(const torch::Tensor& got, const torch::Tensor& a, const torch::Tensor& b) {
  return (got.to(torch::kDouble) - MatmulInDouble(a, b)).abs().max().item<double>();
}

TEST(CpuMatmul, EqualsTheProductForPlainAndTransposedMatrices) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  // Shapes of the attention products: 2, 3 and 4 dims, b as a transposed view (keys), a as
  // one (RAFT's all-pairs correlation), both, odd sizes, a chunk of rows of a larger batch.
  const auto big = torch::randn({3, 50, 33});
  struct Case {
    torch::Tensor a, b;
  };
  const std::vector<Case> cases = {
      {torch::randn({37, 19}), torch::randn({19, 23})},
      {torch::randn({5, 37, 19}), torch::randn({5, 23, 19}).transpose(1, 2)},
      {torch::randn({2, 19, 37}).transpose(1, 2), torch::randn({2, 19, 41})},
      {torch::randn({2, 3, 29, 16}), torch::randn({2, 3, 31, 16}).transpose(2, 3)},
      {big.slice(1, 10, 27), torch::randn({3, 33, 8})},
      {big.slice(0, 1, 3), torch::randn({2, 7, 33}).permute({0, 2, 1})},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [a, b] = cases[i];
    const auto got = CpuMatmul(a, b);
    ASSERT_EQ(got.sizes(), torch::matmul(a, b).sizes()) << i;
    EXPECT_TRUE(got.is_contiguous()) << i;
    EXPECT_EQ(got.scalar_type(), torch::kFloat) << i;
    EXPECT_LT(MatmulError(got, a, b), 2e-5) << i;
    // Where this build and CPU have oneDNN's AVX-512 kernels, these shapes take them.
    if (DnnlWinogradAvailable()) EXPECT_TRUE(CpuMatmulUsesDnnl(a, b)) << i;
  }
}

TEST(CpuMatmul, Bf16KeepsItsDtypeAndRounding) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(4);
  const auto a = torch::randn({4, 33, 64}), b = torch::randn({4, 64, 40});
  const auto got = CpuMatmul(a.to(torch::kBFloat16), b.to(torch::kBFloat16));
  EXPECT_EQ(got.scalar_type(), torch::kBFloat16);
  // Sums of the bf16 inputs, rounded once to bf16 (8 significant bits): within one unit in
  // the last place, 2^-7 of the value at most.
  const auto ref = MatmulInDouble(a.to(torch::kBFloat16).to(torch::kFloat), b.to(torch::kBFloat16).to(torch::kFloat));
  const auto excess = (got.to(torch::kDouble) - ref).abs() - ref.abs() * std::ldexp(1.0, -7) - 1e-3;
  EXPECT_LE(excess.max().item<double>(), 0.0);
}

TEST(CpuMatmul, FallsBackWhereOneDnnDoesNotApply) {
  torch::manual_seed(5);
  const auto a = torch::randn({3, 8, 12}), b = torch::randn({3, 12, 5});
  // Gradients wanted: LibTorch's product, with its autograd.
  const auto ag = a.clone().requires_grad_(true);
  EXPECT_FALSE(CpuMatmulUsesDnnl(ag, b));
  const auto out = CpuMatmul(ag, b);
  ASSERT_TRUE(out.requires_grad());
  out.sum().backward();
  EXPECT_LT((ag.grad() - torch::ones({3, 8, 5}).matmul(b.transpose(1, 2))).abs().max().item<float>(), 1e-5);
  torch::NoGradGuard no_grad;
  // Neither row- nor column-major (every second column), other dtypes, broadcasting, mixed
  // dtypes: all at::matmul, same results.
  const auto strided = torch::randn({3, 8, 24}).slice(2, 0, 24, 2);
  EXPECT_FALSE(CpuMatmulUsesDnnl(strided, b));
  EXPECT_LT(MatmulError(CpuMatmul(strided, b), strided, b), 2e-5);
  const auto ad = a.to(torch::kDouble), bd = b.to(torch::kDouble);
  EXPECT_FALSE(CpuMatmulUsesDnnl(ad, bd));
  EXPECT_LT(MatmulError(CpuMatmul(ad, bd), ad, bd), 1e-12);
  const auto b2 = torch::randn({12, 5});
  EXPECT_FALSE(CpuMatmulUsesDnnl(a, b2));
  EXPECT_LT(MatmulError(CpuMatmul(a, b2), a, b2), 2e-5);
  EXPECT_FALSE(CpuMatmulUsesDnnl(a, b.to(torch::kBFloat16)));
  EXPECT_THROW(CpuMatmul(a, torch::randn({3, 11, 5})), c10::Error);  // sizes do not fit
}

TEST(CpuLinear, EqualsLinearWithAndWithoutBias) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(6);
  const auto w = torch::randn({24, 40}), bias = torch::randn({24});
  // Tokens [B, L, C] (GMFlow's), a row slice of them, and a plain matrix.
  const auto tokens = torch::randn({2, 37, 40});
  for (const auto& x : {tokens, tokens.narrow(1, 5, 20), torch::randn({9, 40})}) {
    for (const bool with_bias : {false, true}) {
      const auto b = with_bias ? bias : torch::Tensor();
      const auto got = CpuLinear(x, w, b);
      const auto ref = torch::linear(x.to(torch::kDouble), w.to(torch::kDouble), with_bias ? b.to(torch::kDouble) : b);
      ASSERT_EQ(got.sizes(), ref.sizes());
      EXPECT_LT((got.to(torch::kDouble) - ref).abs().max().item<double>(), 2e-5) << with_bias;
    }
  }
  // bf16 weights and input (the bf16 networks): bf16 out, within a bf16 rounding.
  const auto got = CpuLinear(tokens.to(torch::kBFloat16), w.to(torch::kBFloat16), bias.to(torch::kBFloat16));
  EXPECT_EQ(got.scalar_type(), torch::kBFloat16);
  const auto ref = torch::linear(tokens.to(torch::kBFloat16).to(torch::kDouble), w.to(torch::kBFloat16).to(torch::kDouble),
                                 bias.to(torch::kBFloat16).to(torch::kDouble));
  EXPECT_LE(((got.to(torch::kDouble) - ref).abs() - ref.abs() * std::ldexp(1.0, -7) - 1e-3).max().item<double>(), 0.0);
}

TEST(CpuLinear, KeepsAutogradAndAutocast) {
  torch::manual_seed(7);
  auto w = torch::randn({6, 5}).requires_grad_(true);
  const auto x = torch::randn({4, 5});
  const auto y = CpuLinear(x, w, torch::Tensor());
  ASSERT_TRUE(y.requires_grad());
  y.sum().backward();
  EXPECT_LT((w.grad() - x.sum(0).expand({6, 5})).abs().max().item<float>(), 1e-5);
  // Under CPU autocast LibTorch decides the dtype (bf16), as at::linear does.
  torch::NoGradGuard no_grad;
  torch::Tensor cast, expected;
  {
    compat::CpuAutocast autocast;
    cast = CpuLinear(x, w.detach(), torch::Tensor());
    expected = torch::linear(x, w.detach());
  }
  EXPECT_EQ(cast.scalar_type(), expected.scalar_type());
  EXPECT_TRUE(torch::equal(cast, expected));
}

}  // namespace
}  // namespace animerun::models
