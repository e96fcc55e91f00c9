// Instance norm on channel blocks against LibTorch's instance_norm, ReLU and sum.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "models/common/channel_block_maps.h"
#include "models/common/dnnl_winograd_conv.h"

namespace animerun::models {
namespace {

torch::Tensor TorchInstanceNorm(const torch::Tensor& x) {
  return torch::instance_norm(x, {}, {}, {}, {}, true, 0.1, 1e-5, false);
}

// A map whose channels have different means and scales (the statistics matter), odd sizes.
torch::Tensor NormTestMap(int64_t c, int64_t h, int64_t w, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({1, c, h, w}) * torch::rand({1, c, 1, 1}) * 4 + torch::randn({1, c, 1, 1}) * 3;
}

TEST(ChannelBlockNorm, NormAndReluMatchInstanceNorm) {
  for (bool relu : {false, true}) {
    const torch::Tensor x = NormTestMap(32, 13, 21, 3);
    torch::Tensor blocks = ToChannelBlocks(x);
    InstanceNormBlocksInPlace(blocks, relu);
    torch::Tensor want = TorchInstanceNorm(x);
    if (relu) want = torch::relu(want);
    EXPECT_TRUE(torch::allclose(FromChannelBlocks(blocks), want, 1e-5, 1e-5)) << "relu " << relu;
  }
}

TEST(ChannelBlockNorm, ResidualEndMatchesTheUnfusedOps) {
  const torch::Tensor y = NormTestMap(48, 9, 17, 5), skip = NormTestMap(48, 9, 17, 6);
  torch::Tensor blocks = ToChannelBlocks(y);
  InstanceNormReluAddReluInPlace(blocks, ToChannelBlocks(skip));
  const torch::Tensor want = torch::relu(skip + torch::relu(TorchInstanceNorm(y)));
  EXPECT_TRUE(torch::allclose(FromChannelBlocks(blocks), want, 1e-5, 1e-5));
}

TEST(ChannelBlockNorm, SameBitsForAnyThreadCount) {
  const torch::Tensor x = ToChannelBlocks(NormTestMap(32, 40, 33, 7));
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::Tensor one = x.clone();
  InstanceNormBlocksInPlace(one, true);
  at::set_num_threads(2);
  torch::Tensor two = x.clone();
  InstanceNormBlocksInPlace(two, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
}

TEST(ChannelBlockNorm, ConversionsFromAndToChannelsLast) {
  const torch::Tensor x = NormTestMap(48, 5, 7, 8);
  const torch::Tensor blocks = ToChannelBlocks(x);
  // bf16 maps, NCHW or channels-last, widen exactly into the blocks.
  const torch::Tensor x16 = x.to(torch::kBFloat16);
  EXPECT_TRUE(torch::equal(ChannelBlocksOf(x16), ToChannelBlocks(x16.to(torch::kFloat))));
  EXPECT_TRUE(torch::equal(ChannelBlocksOf(x16.contiguous(torch::MemoryFormat::ChannelsLast)),
                           ToChannelBlocks(x16.to(torch::kFloat))));
  EXPECT_TRUE(torch::equal(ChannelBlocksOf(x), blocks));
  // Back: float exactly, bf16 rounded as LibTorch rounds.
  const torch::Tensor back16 = ChannelsLastOf(blocks, torch::kBFloat16);
  EXPECT_TRUE(back16.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(back16, x16));
  EXPECT_TRUE(torch::equal(ChannelsLastOf(blocks, torch::kFloat), x));
  EXPECT_THROW(ChannelBlocksOf(torch::randn({1, 20, 4, 4})), std::invalid_argument);
  EXPECT_THROW(ChannelsLastOf(blocks, torch::kHalf), std::invalid_argument);
}

TEST(ChannelBlockNorm, RefusesOtherLayouts) {
  torch::Tensor nchw = torch::randn({1, 16, 4, 4});
  EXPECT_THROW(InstanceNormBlocksInPlace(nchw, false), std::invalid_argument);
  torch::Tensor wide = torch::randn({2, 4, 4, 32}).narrow(3, 0, 16);  // not contiguous
  EXPECT_THROW(InstanceNormBlocksInPlace(wide, false), std::invalid_argument);
  torch::Tensor half = torch::randn({1, 4, 4, 16}).to(torch::kBFloat16);
  EXPECT_THROW(InstanceNormBlocksInPlace(half, false), std::invalid_argument);
  torch::Tensor y = torch::randn({1, 4, 4, 16});
  EXPECT_THROW(InstanceNormReluAddReluInPlace(y, torch::randn({1, 4, 5, 16})), std::invalid_argument);
}

}  // namespace
}  // namespace animerun::models
