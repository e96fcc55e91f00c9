// The on-demand correlation (RAFT's memory-efficient variant) against the all-pairs volume:
// the same lookup to float rounding, inside, across and outside the levels, on the CPU and on
// ANIMERUN_TEST_DEVICE; the automatic choice; and the same flow from RAFT and GMA.
#include <gtest/gtest.h>

#include <limits>

#include "models/common/corr_on_demand.h"
#include "models/common/runtime.h"
#include "models/gma/gma.h"
#include "models/golden_util.h"
#include "models/raft/raft.h"

namespace animerun::models {
namespace {

float RelMaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<float>() / std::max(1e-12f, b.abs().max().item<float>());
}

void ExpectOnDemandMatchesAllPairs(const torch::Device& device) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(21);
  // 37 channels: the dot products' vector loop and their scalar tail; 17x23: odd pooling.
  for (const int64_t dim : {8, 37, 256}) {
    const int64_t h = 17, w = 23;
    const auto f1 = torch::randn({2, dim, h, w}).to(device), f2 = torch::randn({2, dim, h, w}).to(device);
    for (int r : {3, 4}) {
      auto coords = CoordsGrid(2, h, w, torch::kCPU) + torch::randn({2, 2, h, w}) * 6;
      coords.index_put_({1, 0, 3, 4}, 1e5f);     // wholly outside
      coords.index_put_({0, 1, 2, 2}, -6.25f);   // across the top border
      coords.index_put_({0, 0, 5, 5}, std::numeric_limits<float>::quiet_NaN());  // not finite: zeros
      coords = coords.to(device);
      const auto all_pairs = CorrBlock(f1, f2, 4, r)(coords);
      const auto on_demand = OnDemandCorrBlock(f1, f2, 4, r)(coords);
      ASSERT_EQ(on_demand.sizes(), all_pairs.sizes());
      EXPECT_LT(RelMaxDiff(on_demand, all_pairs), 1e-5) << "dim " << dim << " radius " << r;
      EXPECT_EQ(on_demand.select(0, 0).select(1, 5).select(1, 5).abs().max().item<float>(), 0.f);
    }
  }
}

TEST(OnDemandCorr, EqualsTheAllPairsVolumeOnTheCpu) { ExpectOnDemandMatchesAllPairs(torch::kCPU); }

TEST(OnDemandCorr, EqualsTheAllPairsVolumeOnTheParityDevice) {
  const torch::Device device = test::ParityDevice();
  if (device.is_cpu()) GTEST_SKIP() << "ANIMERUN_TEST_DEVICE is cpu: the CPU kernel is checked above";
  ExpectOnDemandMatchesAllPairs(device);
}

TEST(OnDemandCorr, RefusesTraining) {
  const auto f1 = torch::randn({1, 8, 16, 16}, torch::requires_grad()), f2 = torch::randn({1, 8, 16, 16});
  const OnDemandCorrBlock corr(f1, f2, 4, 4);
  EXPECT_THROW(corr(CoordsGrid(1, 16, 16, torch::kCPU)), std::logic_error);
}

TEST(OnDemandCorr, AutoChoosesByTheVolumeAndTheGradient) {
  EXPECT_EQ(AllPairsPyramidBytes(1, 8, 16, 2), int64_t{4} * (128 * 128 + 128 * 32));
  EXPECT_EQ(ParseCorrMode("on-demand"), CorrMode::kOnDemand);
  EXPECT_THROW(ParseCorrMode("alternate"), std::invalid_argument);
  // A 1920x1088 frame: 240x136 at 1/8, 5.7 GB of pyramid -> on demand; 960x544 stays all pairs.
  EXPECT_GT(AllPairsPyramidBytes(1, 136, 240, 4), kOnDemandAboveBytes);
  EXPECT_LT(AllPairsPyramidBytes(1, 68, 120, 4), kOnDemandAboveBytes);
  torch::NoGradGuard no_grad;
  const auto f = torch::randn({1, 4, 16, 16});
  EXPECT_NE(dynamic_cast<CorrBlock*>(MakeCorrLookup(f, f, 4, 4, CorrMode::kAuto).get()), nullptr);
  EXPECT_NE(dynamic_cast<OnDemandCorrBlock*>(MakeCorrLookup(f, f, 4, 4, CorrMode::kOnDemand).get()), nullptr);
  EXPECT_NE(dynamic_cast<CorrBlock*>(MakeCorrLookup(f, f, 4, 4, CorrMode::kAllPairs).get()), nullptr);
}

// The whole network: on-demand gives the all-pairs flow to float rounding (the GRU amplifies
// rounding a little over the iterations).
TEST(OnDemandCorr, RaftAndGmaGiveTheSameFlow) {
  ConfigureThreads(2);
  torch::manual_seed(3);
  const auto im1 = torch::rand({1, 3, 128, 160}) * 255, im2 = torch::rand({1, 3, 128, 160}) * 255;
  std::vector<std::pair<std::string, std::unique_ptr<FlowModel>>> nets;
  nets.emplace_back("raft-small", CreateRaft(true));
  nets.emplace_back("gma", CreateGma());
  for (auto& [name, net] : nets) {
    FlowInferenceOptions o;
    o.iters = 4;
    o.corr = "all-pairs";
    const auto a = net->Estimate(im1, im2, o);
    o.corr = "on-demand";
    const auto b = net->Estimate(im1, im2, o);
    EXPECT_LT((a - b).abs().max().item<float>(), 1e-3) << name;
    EXPECT_GT(a.abs().max().item<float>(), 0.f) << name;
    o.corr = "sideways";
    EXPECT_THROW(net->Estimate(im1, im2, o), std::invalid_argument) << name;
  }
}

}  // namespace
}  // namespace animerun::models
