// oneDNN's Winograd 3x3 convolution for training against LibTorch's direct one: values and all
// three gradients, and when TrainConv2d keeps the direct convolution.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "models/common/dnnl_winograd_conv.h"
#include "models/common/train_conv2d.h"

namespace animerun::models {
namespace {

// Largest difference relative to the reference's largest magnitude.
double RelDiff(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got - want).abs().max() / want.abs().max()).item<double>();
}

#define SKIP_WITHOUT_WINOGRAD()                                                                   \
  if (!DnnlWinogradAvailable()) GTEST_SKIP() << "no oneDNN Winograd here (build without libdnnl-dev, " \
                                                "or a CPU without AVX-512)"

void ExpectMatchesDirect(int64_t n, int64_t c, int64_t k, int64_t h, int64_t w, bool bias, uint64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({n, c, h, w});
  auto weight = torch::randn({k, c, 3, 3}) / std::sqrt(9.0 * c);
  auto b = bias ? torch::randn({k}) : torch::Tensor();
  auto g = torch::randn({n, k, h, w});
  auto run = [&](bool winograd) {
    auto xv = x.clone().requires_grad_(true), wv = weight.clone().requires_grad_(true);
    auto bv = bias ? b.clone().requires_grad_(true) : torch::Tensor();
    auto y = winograd ? DnnlWinogradConv3x3(xv, wv, bv) : torch::conv2d(xv, wv, bv, 1, 1);
    (y * g).sum().backward();
    return std::vector<torch::Tensor>{y.detach(), xv.grad(), wv.grad(), bias ? bv.grad() : torch::zeros({1})};
  };
  const auto got = run(true), want = run(false);
  SCOPED_TRACE(c10::str(n, "x", c, "->", k, " ", h, "x", w, bias ? " bias" : ""));
  // oneDNN's F(4x4, 3x3) rounds to 1-3e-6 of the largest value against a double reference
  // (direct: 2-4e-7; the weight gradient 6-9e-7 against direct's 4-6e-6).
  EXPECT_LT(RelDiff(got[0], want[0]), 3e-5);
  EXPECT_LT(RelDiff(got[1], want[1]), 3e-5);
  EXPECT_LT(RelDiff(got[2], want[2]), 3e-5);
  if (bias) EXPECT_LT(RelDiff(got[3], want[3]), 1e-5);
}

TEST(DnnlWinograd, ValuesAndGradientsMatchDirectConvolution) {
  SKIP_WITHOUT_WINOGRAD();
  ExpectMatchesDirect(2, 16, 32, 24, 40, true, 1);
  ExpectMatchesDirect(1, 117, 128, 12, 24, true, 2);  // PWC-Net's level-2 shapes, smaller map
  ExpectMatchesDirect(2, 35, 2, 7, 9, false, 3);      // two outputs, sides not multiples of 4
  ExpectMatchesDirect(1, 3, 5, 1, 1, true, 4);        // a single pixel
}

TEST(DnnlWinograd, RejectsWhatItCannotRun) {
  SKIP_WITHOUT_WINOGRAD();
  EXPECT_THROW(DnnlWinogradConv3x3(torch::randn({1, 4, 5, 5}), torch::randn({2, 3, 3, 3}), {}), std::invalid_argument);
  EXPECT_THROW(DnnlWinogradConv3x3(torch::randn({1, 4, 5, 5}, torch::kDouble), torch::randn({2, 4, 3, 3}, torch::kDouble), {}),
               std::invalid_argument);
}

TEST(DnnlWinograd, ChannelBlocksRoundTrip) {
  // Needs no Winograd kernels: the layout conversion alone, from both memory formats.
  torch::manual_seed(6);
  const auto x = torch::randn({1, 32, 7, 9});
  const auto blocks = ToChannelBlocks(x);
  ASSERT_EQ(blocks.sizes(), (std::vector<int64_t>{2, 7, 9, 16}));
  EXPECT_TRUE(torch::equal(blocks[1][3][4], x[0].select(1, 3).select(1, 4).narrow(0, 16, 16)));
  EXPECT_TRUE(torch::equal(FromChannelBlocks(blocks), x));
  EXPECT_TRUE(torch::equal(ToChannelBlocks(x.contiguous(torch::MemoryFormat::ChannelsLast)), blocks));
  EXPECT_THROW(ToChannelBlocks(torch::randn({1, 24, 4, 4})), std::invalid_argument);  // 24 % 16 != 0
}

TEST(DnnlWinograd, InferenceInChannelBlocksAndBands) {
  SKIP_WITHOUT_WINOGRAD();
  torch::NoGradGuard no_grad;
  torch::manual_seed(7);
  // Sides no multiple of 4; AnT's 64 -> 128 channels.
  const int64_t h = 45, w = 38;
  const auto x = torch::randn({1, 64, h, w});
  auto weight = torch::randn({128, 64, 3, 3}) / 24.0;
  const auto bias = torch::randn({128});
  const auto want = torch::conv2d(x, weight, bias, 1, 1);
  const auto blocks = ToChannelBlocks(x);
  const auto whole = FromChannelBlocks(DnnlWinogradConv3x3Blocks(blocks, weight, bias));
  EXPECT_LT(RelDiff(whole, want), 3e-5);
  // Bands of 8 rows (320 pixels / 38 wide, down to a multiple of 4): 6 bands, the last one
  // 5 rows, each handed on in order, together the whole output.
  auto got = torch::full({1, 128, h, w}, std::nanf(""));
  std::vector<int64_t> starts;
  DnnlWinogradConv3x3Bands(blocks, weight, bias, 320, [&](const torch::Tensor& band, int64_t row0, int64_t rows) {
    starts.push_back(row0);
    EXPECT_EQ(band.size(1), 8);
    got.narrow(2, row0, rows).copy_(FromChannelBlocks(band).narrow(2, 0, rows));
  });
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 8, 16, 24, 32, 40}));
  EXPECT_LT(RelDiff(got, want), 3e-5);
  // Changed weights (in place) are seen: the transformed copy is made again.
  weight.mul_(-1.0);
  EXPECT_LT(RelDiff(FromChannelBlocks(DnnlWinogradConv3x3Blocks(blocks, weight, bias)),
                    torch::conv2d(x, weight, bias, 1, 1)),
            3e-5);
  EXPECT_THROW(DnnlWinogradConv3x3Blocks(blocks, torch::randn({128, 32, 3, 3}), bias), std::invalid_argument);
  EXPECT_THROW(DnnlWinogradConv3x3Bands(blocks, weight, bias, 0, [](const torch::Tensor&, int64_t, int64_t) {}),
               std::invalid_argument);
}

TEST(TrainConv2d, WinogradInferenceInWholeChannelBlocks) {
  SKIP_WITHOUT_WINOGRAD();
  torch::manual_seed(9);
  torch::NoGradGuard no_grad;
  TrainConv2d conv(torch::nn::Conv2dOptions(32, 16, 3).padding(1));
  const auto x = torch::randn({2, 32, 19, 26});
  auto direct = torch::conv2d(x, conv->weight, conv->bias, 1, 1);
  for (const auto format : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
    const auto got = conv(x.contiguous(format));
    EXPECT_TRUE(got.is_contiguous(format));
    EXPECT_FALSE(torch::equal(got, direct));  // Winograd's rounding, not LibTorch's
    EXPECT_LT(RelDiff(got, direct), 3e-5);
  }
  // Weights changed in place are seen (the transformed copy is compared by value).
  conv->weight.mul_(-1.0);
  direct = torch::conv2d(x, conv->weight, conv->bias, 1, 1);
  EXPECT_LT(RelDiff(conv(x), direct), 3e-5);
  // The switch (bench flow --direct-conv) and channel counts outside whole 16-channel blocks
  // give LibTorch's convolution, bit for bit.
  SetWinogradInference(false);
  EXPECT_TRUE(torch::equal(conv(x), direct));
  SetWinogradInference(true);
  TrainConv2d odd(torch::nn::Conv2dOptions(24, 16, 3).padding(1));
  const auto y = torch::randn({1, 24, 20, 28});
  EXPECT_TRUE(torch::equal(odd(y), torch::conv2d(y, odd->weight, odd->bias, 1, 1)));
}

TEST(TrainConv2d, WinogradWhenTraining) {
  SKIP_WITHOUT_WINOGRAD();
  torch::manual_seed(5);
  TrainConv2d conv(torch::nn::Conv2dOptions(24, 16, 3).padding(1));
  auto x = torch::randn({1, 24, 20, 28});
  const auto direct = torch::conv2d(x, conv->weight, conv->bias, 1, 1).detach();
  const auto trained = conv(x);  // the weights want gradients: Winograd
  EXPECT_FALSE(torch::equal(trained.detach(), direct));
  EXPECT_LT(RelDiff(trained.detach(), direct), 3e-5);
  SetWinogradTraining(false);
  EXPECT_TRUE(torch::equal(conv(x).detach(), direct));
  SetWinogradTraining(true);
  // Other shapes keep the direct convolution: dilation, stride.
  TrainConv2d dilated(torch::nn::Conv2dOptions(24, 16, 3).padding(2).dilation(2));
  dilated->weight.data().copy_(conv->weight.data());
  dilated->bias.data().copy_(conv->bias.data());
  EXPECT_TRUE(torch::equal(dilated(x).detach(), torch::conv2d(x, conv->weight, conv->bias, 1, 2, 2).detach()));
  TrainConv2d strided(torch::nn::Conv2dOptions(24, 16, 3).padding(1).stride(2));
  EXPECT_TRUE(torch::equal(strided(x).detach(), torch::conv2d(x, strided->weight, strided->bias, 2, 1).detach()));
}

}  // namespace
}  // namespace animerun::models
