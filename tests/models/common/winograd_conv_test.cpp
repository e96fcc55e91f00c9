#include "models/common/winograd_conv.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <tuple>

namespace animerun::models {
namespace {

struct Case {
  int64_t c, k, h, w;
  bool with_bias;
};

// Max |y - conv2d(x, w, b)| with the reference in double.
double MaxError(const torch::Tensor& y, const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
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
  for (const Case& t : {Case{5, 7, 11, 9, true}, Case{32, 48, 37, 53, false}, Case{64, 128, 40, 72, true},
                        Case{3, 16, 1, 1, true}, Case{16, 16, 2, 3, false}}) {
    const torch::Tensor x = torch::randn({1, t.c, t.h, t.w}).relu();
    const torch::Tensor w = torch::randn({t.k, t.c, 3, 3}) / std::sqrt(9.0 * static_cast<double>(t.c));
    const torch::Tensor b = t.with_bias ? torch::randn({t.k}) * 0.1 : torch::Tensor();
    const double direct = MaxError(torch::conv2d(x, w, b, 1, 1), x, w, b);
    for (const bool channels_last : {false, true}) {
      const torch::Tensor in = channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
      const torch::Tensor y2 = WinogradConv3x3(in, w, b, 2);
      const torch::Tensor y4 = WinogradConv3x3(in, w, b, 4);
      ASSERT_EQ(y2.sizes(), (std::vector<int64_t>{1, t.k, t.h, t.w}));
      EXPECT_TRUE(y2.is_contiguous(torch::MemoryFormat::ChannelsLast));
      const double e2 = MaxError(y2, x, w, b), e4 = MaxError(y4, x, w, b);
      EXPECT_LT(e2, std::max(3.0 * direct, 2e-6)) << t.c << "->" << t.k << " " << t.h << "x" << t.w;
      EXPECT_LT(e4, std::max(40.0 * direct, 3e-5)) << t.c << "->" << t.k << " " << t.h << "x" << t.w;
    }
  }
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
