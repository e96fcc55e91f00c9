#include "models/common/winograd_conv.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <tuple>

namespace animerun::models {
namespace {

struct WinogradCase {
  int64_t c, k, h, w;
  bool with_bias;
};

// Max |y - conv2d(x, w, b)| with the reference in double.
double WinogradMaxError(const torch::Tensor& y, const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  const torch::Tensor ref = torch::conv2d(x.to(torch::kDouble), w.to(torch::kDouble),
                                          b.defined() ? b.to(torch::kDouble) : torch::Tensor(), 1, 1);
  return (y.to(torch::kDouble) - ref).abs().max().item<double>();
}

TEST(WinogradConv, EqualsTheDirectConvolution) {
  // Sizes that are no multiple of the tile (partial tiles on the right and bottom edges),
  // channel counts that are no multiple of the 16-lane vector (the padded path), with and
  // without bias, NCHW and channels-last inputs. Values of unit scale, like AnT's normalised
  // maps: F(2x2, 3x3) rounds like the direct convolution; F(4x4, 3x3) about ten times more
  // (measured up to 11x at 64 -> 128 channels).
  torch::manual_seed(5);
  torch::NoGradGuard no_grad;
  for (const WinogradCase& t : {WinogradCase{5, 7, 11, 9, true}, WinogradCase{32, 48, 37, 53, false}, WinogradCase{64, 128, 40, 72, true},
                        WinogradCase{3, 16, 1, 1, true}, WinogradCase{16, 16, 2, 3, false}}) {
    const torch::Tensor x = torch::randn({1, t.c, t.h, t.w}).relu();
    const torch::Tensor w = torch::randn({t.k, t.c, 3, 3}) / std::sqrt(9.0 * static_cast<double>(t.c));
    const torch::Tensor b = t.with_bias ? torch::randn({t.k}) * 0.1 : torch::Tensor();
    const double direct = WinogradMaxError(torch::conv2d(x, w, b, 1, 1), x, w, b);
    for (const bool channels_last : {false, true}) {
      const torch::Tensor in = channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
      const torch::Tensor y2 = WinogradConv3x3(in, w, b, 2);
      const torch::Tensor y4 = WinogradConv3x3(in, w, b, 4);
      ASSERT_EQ(y2.sizes(), (std::vector<int64_t>{1, t.k, t.h, t.w}));
      EXPECT_TRUE(y2.is_contiguous(torch::MemoryFormat::ChannelsLast));
      const double e2 = WinogradMaxError(y2, x, w, b), e4 = WinogradMaxError(y4, x, w, b);
      EXPECT_LT(e2, std::max(3.0 * direct, 2e-6)) << t.c << "->" << t.k << " " << t.h << "x" << t.w;
      EXPECT_LT(e4, std::max(40.0 * direct, 3e-5)) << t.c << "->" << t.k << " " << t.h << "x" << t.w;
    }
  }
}

TEST(WinogradConv, SegmentSumsEqualPoolingTheConvolution) {
  // The pooled variant against the convolution's output summed per segment and per channel
  // in double: random ids (one id never used), a size no multiple of the tile, 40 output
  // channels (a partial vector); and the same sums bit for bit with one thread and two.
  torch::manual_seed(9);
  torch::NoGradGuard no_grad;
  const int64_t h = 29, w = 43, n = 7;
  const torch::Tensor x = torch::randn({1, 24, h, w}).relu();
  const torch::Tensor weight = torch::randn({40, 24, 3, 3}) / std::sqrt(9.0 * 24);
  const torch::Tensor bias = torch::randn({40}) * 0.1;
  const torch::Tensor ids = torch::randint(0, n - 1, {h, w}, torch::kInt32);  // id n-1 empty
  const torch::Tensor y = torch::conv2d(x.to(torch::kDouble), weight.to(torch::kDouble), bias.to(torch::kDouble), 1, 1)[0]
                              .reshape({40, h * w})
                              .t();  // [HW, K]
  const torch::Tensor expected = torch::zeros({n, 40}, torch::kDouble).index_add_(0, ids.reshape({-1}).to(torch::kLong), y);
  for (const int tile : {2, 4}) {
    const WinogradSegmentSums r = WinogradConv3x3SegmentSums(x, weight, bias, ids, n, tile);
    ASSERT_EQ(r.sums.sizes(), (std::vector<int64_t>{n, 40}));
    EXPECT_LT((r.sums - expected).abs().max().item<double>(), tile == 2 ? 1e-4 : 1e-3) << tile;
    EXPECT_EQ(r.sums[n - 1].abs().max().item<double>(), 0.0);
    EXPECT_LT((r.channel_sum - y.sum(0)).abs().max().item<double>(), tile == 2 ? 1e-4 : 1e-3);
    EXPECT_LT((r.channel_sum_sq - y.square().sum(0)).abs().max().item<double>(), tile == 2 ? 1e-4 : 1e-3);
  }
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const WinogradSegmentSums one = WinogradConv3x3SegmentSums(x, weight, bias, ids, n, 2);
  at::set_num_threads(2);
  const WinogradSegmentSums two = WinogradConv3x3SegmentSums(x, weight, bias, ids, n, 2);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.sums, two.sums));
  EXPECT_TRUE(torch::equal(one.channel_sum_sq, two.channel_sum_sq));
  // Ids outside [0, n) and a map of the wrong size are refused.
  EXPECT_THROW(WinogradConv3x3SegmentSums(x, weight, bias, ids, n - 2, 2), std::invalid_argument);
  EXPECT_THROW(WinogradConv3x3SegmentSums(x, weight, bias, ids.narrow(0, 0, h - 1), n, 2), std::invalid_argument);
}

TEST(WinogradConv, RefusesWhatItCannotCompute) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 4, 8, 8});
  const torch::Tensor w = torch::randn({6, 4, 3, 3});
  EXPECT_THROW(WinogradConv3x3(torch::randn({2, 4, 8, 8}), w, {}, 2), std::invalid_argument);  // batch
  EXPECT_THROW(WinogradConv3x3(x.to(torch::kDouble), w, {}, 2), std::invalid_argument);        // dtype
  EXPECT_THROW(WinogradConv3x3(x, torch::randn({6, 4, 5, 5}), {}, 2), std::invalid_argument);  // 5x5
  EXPECT_THROW(WinogradConv3x3(x, torch::randn({6, 3, 3, 3}), {}, 2), std::invalid_argument);  // channels
  EXPECT_THROW(WinogradConv3x3(x, w, torch::randn({5}), 2), std::invalid_argument);            // bias
  EXPECT_THROW(WinogradConv3x3(x, w, {}, 3), std::invalid_argument);                           // tile
}

}  // namespace
}  // namespace animerun::models
