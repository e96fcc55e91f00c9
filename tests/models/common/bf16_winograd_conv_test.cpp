// The bf16 Winograd F(4x4, 3x3) against a double reference: its error stays within what bf16
// operands and the transforms explain, bands and threads do not change a bit, bad shapes
// are refused.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "models/common/bf16_winograd_conv.h"

namespace animerun::models {
namespace {

#define SKIP_WITHOUT_BF16_WINOGRAD() \
  if (!Bf16WinogradAvailable()) GTEST_SKIP() << "this CPU has no AVX-512 BF16"

// [1, C, H, W] -> [C / 16, H, W, 16] and back.
torch::Tensor ToBlocksForBf16(const torch::Tensor& x) {
  return x.reshape({x.size(1) / 16, 16, x.size(2), x.size(3)}).permute({0, 2, 3, 1}).contiguous();
}
torch::Tensor FromBlocksForBf16(const torch::Tensor& b) {
  return b.permute({0, 3, 1, 2}).reshape({1, b.size(0) * 16, b.size(1), b.size(2)});
}

// The convolution of x by the kernel, gathered band by band into [1, K, H, W].
torch::Tensor ConvByBands(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t band_pixels,
                  int64_t* bands = nullptr) {
  const int64_t h = x.size(2);
  torch::Tensor out = torch::full({w.size(0) / 16, h, x.size(3), 16}, std::nanf(""));
  int64_t next_row = 0, count = 0;
  Bf16WinogradConv3x3Bands(ToBlocksForBf16(x), w, b, band_pixels, [&](const torch::Tensor& band, int64_t row0, int64_t rows) {
    EXPECT_EQ(row0, next_row);  // in order, no gaps
    EXPECT_GT(rows, 0);
    EXPECT_LE(rows, band.size(1));
    out.narrow(1, row0, rows).copy_(band.narrow(1, 0, rows));
    next_row = row0 + rows;
    ++count;
  });
  EXPECT_EQ(next_row, h);
  if (bands != nullptr) *bands = count;
  return FromBlocksForBf16(out);
}

void ExpectBf16NearDirect(int64_t c, int64_t k, int64_t h, int64_t w, bool bias, uint64_t seed) {
  SCOPED_TRACE(c10::str(c, "->", k, " ", h, "x", w, bias ? " bias" : ""));
  torch::manual_seed(seed);
  // As AnT's layer3 sees them: normalised and rectified inputs, He-scaled weights.
  const torch::Tensor x = torch::relu(torch::randn({1, c, h, w}));
  const torch::Tensor weight = torch::randn({k, c, 3, 3}) * std::sqrt(2.0 / (9.0 * c));
  const torch::Tensor b = bias ? torch::randn({k}) * 0.1 : torch::Tensor();
  const torch::Tensor got = ConvByBands(x, weight, b, 8 * w).to(torch::kDouble);
  const auto dbl = [](const torch::Tensor& t) { return t.defined() ? t.to(torch::kDouble) : t; };
  const torch::Tensor want = torch::conv2d(dbl(x), dbl(weight), dbl(b), 1, 1);
  // The direct convolution with bf16-rounded operands: the error bf16 alone brings.
  const auto bf = [](const torch::Tensor& t) { return t.to(torch::kBFloat16).to(torch::kDouble); };
  const torch::Tensor direct_bf16 = torch::conv2d(bf(x), bf(weight), dbl(b), 1, 1);
  const double scale = want.abs().max().item<double>();
  const double err_max = (got - want).abs().max().item<double>() / scale;
  const double err_mean = (got - want).abs().mean().item<double>();
  const double bf16_mean = (direct_bf16 - want).abs().mean().item<double>();
  std::printf("[bf16 winograd] largest error %.4f of the largest output, mean %.2fx the bf16 direct one\n", err_max,
              err_mean / bf16_mean);
  // Measured: largest error up to 2.4% of the largest output, mean 5-8x that of the bf16
  // direct convolution (the transforms amplify the operands' rounding; 8x for the single
  // pixel). A wrong transform, tile or edge is off by the size of the outputs themselves.
  EXPECT_TRUE(torch::isfinite(got).all().item<bool>());
  EXPECT_LT(err_max, 0.04);
  EXPECT_LT(err_mean, 10.0 * bf16_mean + 1e-6);
}

TEST(Bf16Winograd, NearTheDirectConvolution) {
  SKIP_WITHOUT_BF16_WINOGRAD();
  ExpectBf16NearDirect(64, 128, 37, 45, true, 1);  // AnT's layer3 channels; sides not multiples of 4
  ExpectBf16NearDirect(32, 64, 24, 40, true, 2);   // layer2's
  ExpectBf16NearDirect(16, 48, 9, 7, false, 3);    // three output blocks, one channel block
  ExpectBf16NearDirect(16, 16, 1, 1, true, 4);     // a single pixel
  ExpectBf16NearDirect(48, 80, 5, 130, true, 5);   // 80: a group of 64 and one of 16 output channels
}

TEST(Bf16Winograd, BandsAndThreadsDoNotChangeTheResult) {
  SKIP_WITHOUT_BF16_WINOGRAD();
  torch::manual_seed(7);
  const torch::Tensor x = torch::relu(torch::randn({1, 32, 53, 61}));
  const torch::Tensor weight = torch::randn({64, 32, 3, 3}) * 0.08;
  const torch::Tensor b = torch::randn({64});
  int64_t one = 0, many = 0;
  const torch::Tensor whole = ConvByBands(x, weight, b, 1 << 20, &one);
  const torch::Tensor banded = ConvByBands(x, weight, b, 4 * 61, &many);
  EXPECT_EQ(one, 1);
  EXPECT_EQ(many, 14);  // 4 rows a band, 53 rows
  EXPECT_TRUE(torch::equal(whole, banded));
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const torch::Tensor single = ConvByBands(x, weight, b, 12 * 61);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(whole, single));
}

TEST(Bf16Winograd, RejectsWhatItCannotRun) {
  SKIP_WITHOUT_BF16_WINOGRAD();
  const BandSink none = [](const torch::Tensor&, int64_t, int64_t) {};
  const torch::Tensor blocks = torch::zeros({2, 8, 8, 16});
  EXPECT_THROW(Bf16WinogradConv3x3Bands(blocks, torch::zeros({16, 16, 3, 3}), {}, 64, none), std::invalid_argument);
  EXPECT_THROW(Bf16WinogradConv3x3Bands(blocks, torch::zeros({20, 32, 3, 3}), {}, 64, none), std::invalid_argument);
  EXPECT_THROW(Bf16WinogradConv3x3Bands(blocks, torch::zeros({16, 32, 5, 5}), {}, 64, none), std::invalid_argument);
  EXPECT_THROW(Bf16WinogradConv3x3Bands(blocks, torch::zeros({16, 32, 3, 3}), torch::zeros({8}), 64, none),
               std::invalid_argument);
  EXPECT_THROW(Bf16WinogradConv3x3Bands(blocks.to(torch::kDouble), torch::zeros({16, 32, 3, 3}), {}, 64, none),
               std::invalid_argument);
  EXPECT_THROW(Bf16WinogradConv3x3Bands(blocks, torch::zeros({16, 32, 3, 3}), {}, 0, none), std::invalid_argument);
}

}  // namespace
}  // namespace animerun::models
