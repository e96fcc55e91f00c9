// The work count behind `animerun bench`'s GFLOP and fraction of peak: each network counts
// its official forward from its own layer shapes, and the totals match what PyTorch's
// FlopCounterMode reports for the official models (issue 14: RAFT 440x1024 at 32
// iterations 1614 G, GMFlow 448x1024 406 G).
#include <gtest/gtest.h>

#include <cstdio>

#include "models/ant/ant.h"
#include "models/common/flop_count.h"
#include "models/common/flow_factory.h"

namespace animerun::models {
namespace {

double Part(const FlopCount& c, const std::string& name) {
  for (const auto& [part, flop] : c.parts())
    if (part == name) return flop;
  return 0.0;
}

TEST(FlopCount, ConvolutionsFollowTheirShapes) {
  FlopCount c;
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 64, 7).stride(2).padding(3));
  const auto [h, w] = c.Conv("a", *conv, 2, 440, 1024);
  EXPECT_EQ(h, 220);
  EXPECT_EQ(w, 512);
  EXPECT_DOUBLE_EQ(c.total(), 2.0 * 2 * 220 * 512 * 64 * 3 * 49);
  torch::nn::Conv2d grouped(torch::nn::Conv2dOptions(8, 8, 3).padding(2).dilation(2).groups(4));
  const auto [gh, gw] = c.Conv("b", *grouped, 1, 10, 12);
  EXPECT_EQ(gh, 10);
  EXPECT_EQ(gw, 12);
  EXPECT_DOUBLE_EQ(Part(c, "b"), 2.0 * 10 * 12 * 8 * 2 * 9);
  torch::nn::ConvTranspose2d up(torch::nn::ConvTranspose2dOptions(2, 2, 4).stride(2).padding(1));
  const auto [uh, uw] = c.ConvTranspose("c", *up, 1, 7, 16);
  EXPECT_EQ(uh, 14);
  EXPECT_EQ(uw, 32);
  EXPECT_DOUBLE_EQ(Part(c, "c"), 2.0 * 7 * 16 * 2 * 2 * 16);
  torch::nn::Linear linear(128, 512);
  c.Linear("d", *linear, 100, 3);
  EXPECT_DOUBLE_EQ(Part(c, "d"), 2.0 * 100 * 128 * 512 * 3);
  EXPECT_EQ(c.parts().size(), 4u);
}

TEST(FlopCount, RaftAndGmflowMatchPyTorchsCountOfTheOfficialModels) {
  const double raft = CreateFlowModel("raft")->OfficialFlops(440, 1024, 32).total();
  const double gmflow = CreateFlowModel("gmflow")->OfficialFlops(448, 1024, 0).total();
  std::printf("[flops] raft 440x1024 32 it: %.1f G (PyTorch 1614 G); gmflow 448x1024: %.1f G (PyTorch 406 G)\n",
              raft / 1e9, gmflow / 1e9);
  EXPECT_NEAR(raft / 1614e9, 1.0, 0.05);
  EXPECT_NEAR(gmflow / 406e9, 1.0, 0.05);
}

TEST(FlopCount, EveryNetworkCountsItsParts) {
  for (const std::string name : {"raft", "raft-small", "gma", "gmflow", "gmflow-refine", "pwcnet"}) {
    const auto model = CreateFlowModel(name);
    const FlopCount at12 = model->OfficialFlops(368, 640, 12), at24 = model->OfficialFlops(368, 640, 24);
    std::printf("[flops] %s 368x640 (12 it): %s\n", name.c_str(), at12.Describe().c_str());
    EXPECT_GT(at12.total(), 1e9) << name;
    // Larger frames cost more.
    EXPECT_GT(model->OfficialFlops(736, 1280, 12).total(), 3.0 * at12.total()) << name;
    const bool iterative = name == "raft" || name == "raft-small" || name == "gma";
    if (iterative) {
      // Encoders and correlation once, the update block per iteration.
      EXPECT_DOUBLE_EQ(Part(at24, "encoders"), Part(at12, "encoders")) << name;
      EXPECT_DOUBLE_EQ(Part(at24, "update"), 2 * Part(at12, "update")) << name;
      EXPECT_GT(Part(at12, "correlation"), 0.0) << name;
    } else {
      EXPECT_DOUBLE_EQ(at24.total(), at12.total()) << name;
    }
  }
  // GMA is RAFT plus the attention and aggregation.
  const auto raft = CreateFlowModel("raft")->OfficialFlops(368, 640, 12);
  const auto gma = CreateFlowModel("gma")->OfficialFlops(368, 640, 12);
  EXPECT_DOUBLE_EQ(Part(gma, "encoders"), Part(raft, "encoders"));
  EXPECT_GT(Part(gma, "attention"), 0.0);
  EXPECT_GT(gma.total(), raft.total());
}

// AnT: the full-resolution encoder of both frames dominates; the attention grows with the
// square of the segments.
TEST(FlopCount, AntCountsItsEncoderAndAttention) {
  AntNet net{AntConfig{}};
  const FlopCount c400 = net->CountOfficialFlops(540, 960, 400, 400);
  const FlopCount c100 = net->CountOfficialFlops(540, 960, 100, 100);
  std::printf("[flops] ant 540x960, 400 segments: %s\n", c400.Describe().c_str());
  const double encoder = 2 * 2.0 * 540 * 960 * (3 * 32 * 49 + 32 * 64 * 9 + 64 * 128 * 9);
  EXPECT_DOUBLE_EQ(Part(c400, "encoder"), encoder);
  EXPECT_DOUBLE_EQ(Part(c100, "encoder"), encoder);
  EXPECT_GT(Part(c400, "attention"), 4.0 * Part(c100, "attention"));  // quadratic terms
  EXPECT_DOUBLE_EQ(Part(c400, "scores"), 2.0 * 400 * 400 * 128);
}

}  // namespace
}  // namespace animerun::models
