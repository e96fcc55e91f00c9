// oneDNN's Winograd 3x3 convolution for training against LibTorch's direct one: values and all
// three gradients, and when TrainConv2d keeps the direct convolution.
#include <gtest/gtest.h>

#include <torch/torch.h>

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

TEST(TrainConv2d, WinogradOnlyWhenTraining) {
  SKIP_WITHOUT_WINOGRAD();
  torch::manual_seed(5);
  TrainConv2d conv(torch::nn::Conv2dOptions(24, 16, 3).padding(1));
  auto x = torch::randn({1, 24, 20, 28});
  const auto direct = torch::conv2d(x, conv->weight, conv->bias, 1, 1).detach();
  {
    torch::NoGradGuard no_grad;  // inference: exactly LibTorch's convolution
    EXPECT_TRUE(torch::equal(conv(x), direct));
  }
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
