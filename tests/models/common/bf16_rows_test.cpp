// bf16 layer norm and GELU against LibTorch's fp32 ones on the widened input: within the
// final rounding to bf16.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "models/common/bf16_rows.h"

namespace animerun::models {
namespace {

// Largest |got - want| in units of want's bf16 spacing (2^-8 of its magnitude, plus a floor).
double Bf16Ulps(const torch::Tensor& got, const torch::Tensor& want) {
  const auto spacing = want.abs() * (1.0 / 256) + 1e-6;
  return ((got.to(torch::kFloat) - want).abs() / spacing).max().item<double>();
}

TEST(Bf16Rows, LayerNormMatchesFp32WithinTheRounding) {
  torch::manual_seed(4);
  for (int64_t c : {128, 100, 7}) {  // whole 16-lane blocks, a remainder, fewer than 16
    const auto x = (torch::randn({37, 3, c}) * 3 + 2).to(torch::kBFloat16);
    const auto w = torch::randn({c}), b = torch::randn({c});
    const auto want = torch::layer_norm(x.to(torch::kFloat), {c}, w, b, 1e-5);
    EXPECT_LE(Bf16Ulps(Bf16LayerNorm(x, w, b, 1e-5), want), 1.01) << "C " << c;
    const auto res = torch::randn({37, 3, c}).to(torch::kBFloat16);
    EXPECT_LE(Bf16Ulps(Bf16LayerNorm(x, w, b, 1e-5, res), res.to(torch::kFloat) + want), 1.01) << "C " << c;
    // Into rows of a larger map (the transformer's output buffer): the same bits.
    auto big = torch::zeros({5, 3, c}, torch::kBFloat16).repeat({37, 1, 1});
    auto rows = big.narrow(0, 37, 37);
    Bf16LayerNormOut(rows, x, w, b, 1e-5, res);
    EXPECT_TRUE(torch::equal(rows, Bf16LayerNorm(x, w, b, 1e-5, res))) << "C " << c;
    EXPECT_TRUE(torch::equal(big.narrow(0, 0, 37), torch::zeros({37, 3, c}, torch::kBFloat16)));
  }
}

TEST(Bf16Rows, GeluMatchesFp32WithinTheRounding) {
  auto x = torch::linspace(-12, 12, 20001).to(torch::kBFloat16);
  const auto erf_form = torch::gelu(x.to(torch::kFloat));
  const auto tanh_form = torch::gelu(x.to(torch::kFloat), "tanh");
  auto a = x.clone(), t = x.clone();
  Bf16GeluInPlace(a, false);
  Bf16GeluInPlace(t, true);
  EXPECT_LE(Bf16Ulps(a, erf_form), 1.01);
  EXPECT_LE(Bf16Ulps(t, tanh_form), 1.01);
  auto nan = torch::full({20}, NAN).to(torch::kBFloat16);
  Bf16GeluInPlace(nan, false);
  EXPECT_TRUE(torch::isnan(nan).all().item<bool>());
}

TEST(Bf16Rows, RefusesWhatItDoesNotTake) {
  const auto w = torch::ones({8}), b = torch::zeros({8});
  EXPECT_FALSE(Bf16RowsApply(torch::randn({4, 8})));
  EXPECT_FALSE(Bf16RowsApply(torch::randn({8, 4}).to(torch::kBFloat16).t()));
  EXPECT_THROW(Bf16LayerNorm(torch::randn({4, 8}), w, b, 1e-5), std::invalid_argument);
  EXPECT_THROW(Bf16LayerNorm(torch::randn({4, 9}).to(torch::kBFloat16), w, b, 1e-5), std::invalid_argument);
  EXPECT_THROW(Bf16LayerNorm(torch::randn({4, 8}).to(torch::kBFloat16), w, b, 1e-5,
                             torch::randn({4, 9}).to(torch::kBFloat16)),
               std::invalid_argument);
  auto wrong_out = torch::empty({4, 9}, torch::kBFloat16);
  EXPECT_THROW(Bf16LayerNormOut(wrong_out, torch::randn({4, 8}).to(torch::kBFloat16), w, b, 1e-5),
               std::invalid_argument);
  auto f = torch::randn({4});
  EXPECT_THROW(Bf16GeluInPlace(f, false), std::invalid_argument);
}

}  // namespace
}  // namespace animerun::models
