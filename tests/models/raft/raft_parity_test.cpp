// RAFT and RAFT-small against the official Python outputs (../shared/golden): the official
// checkpoints load strictly by name, and every stored output (per-iteration flows, test-mode
// flows, encoder features, first correlation lookup) matches within the manifest tolerance.
#include <gtest/gtest.h>

#include <iostream>

#include "models/common/checkpoint.h"
#include "models/common/input_padder.h"
#include "models/common/runtime.h"
#include "models/golden_util.h"
#include "models/raft/raft.h"
#include "models/raft/raft_parity_util.h"
#include "test_paths.h"

namespace animerun::test {
namespace {

using models::RaftNet;

void RunCase(const RaftParityCase& c) {
  RaftNet net(c.model == "raft-small");
  RunRaftFamilyCase(c, net);
}

std::vector<RaftParityCase> Cases(const std::string& model) {
  auto cases = GoldenCases({model});
  EXPECT_FALSE(cases.empty()) << "no " << model << " cases in the manifest";
  return cases;
}

TEST(RaftParity, FullMatchesOfficial) {
  ANIMERUN_REQUIRE_GOLDEN();
  for (const auto& c : Cases("raft")) {
    SCOPED_TRACE(c.id);
    RunCase(c);
  }
}

TEST(RaftParity, SmallMatchesOfficial) {
  ANIMERUN_REQUIRE_GOLDEN();
  for (const auto& c : Cases("raft-small")) {
    SCOPED_TRACE(c.id);
    RunCase(c);
  }
}

// The FlowModel path: LoadWeights from the official file, Estimate on the unpadded
// images, the official flow_final.
TEST(RaftParity, FlowModelEstimateMatchesFlowFinal) {
  ANIMERUN_REQUIRE_GOLDEN();
  models::ConfigureThreads(2);
  for (const std::string model : {"raft", "raft-small"}) {
    const auto c = Cases(model).front();
    auto flow_model = models::CreateRaft(model == "raft-small");
    EXPECT_EQ(flow_model->name(), model);
    EXPECT_TRUE(flow_model->LoadWeights((GoldenDir() / c.weights).string()).ok());
    flow_model->To(ParityDevice());
    models::FlowInferenceOptions opt;
    opt.iters = c.iters;
    opt.padding = c.padding;
    const auto flow = flow_model->Estimate(ReadPngAsBatch((GoldenDir() / c.img1).string()),
                                           ReadPngAsBatch((GoldenDir() / c.img2).string()), opt);
    const std::string final_rel = std::filesystem::path(c.weights).parent_path().string() + "/" + c.id + "/flow_final.npy";
    ExpectGoldenClose(c.id, "estimate_flow_final", flow, final_rel, c.atol);
  }
}

// Saving writes the official key names ('module.' prefix, norm3 and downsample.1 both
// present); the saved file loads back strictly and gives identical weights.
TEST(RaftParity, SaveWeightsRoundTrip) {
  ANIMERUN_REQUIRE_GOLDEN();
  const auto dir = ScratchDir("raft_save");
  auto a = models::CreateRaft(false);
  a->LoadWeights((GoldenDir() / "raft/raft.pth").string());
  const auto path = (dir / "raft_copy.pth").string();
  a->SaveWeights(path);
  const auto original = models::LoadStateDict((GoldenDir() / "raft/raft.pth").string());
  const auto saved = models::LoadStateDict(path);
  ASSERT_EQ(saved.size(), original.size());
  for (const auto& [key, tensor] : original.entries) {
    const auto* t = saved.Find(key);
    ASSERT_NE(t, nullptr) << key;
    EXPECT_TRUE(torch::equal(*t, tensor)) << key;
  }
  models::CheckpointLoadOptions keep;
  keep.strip_module_prefix = false;
  const auto raw = models::LoadStateDict(path, keep);
  EXPECT_TRUE(raw.Contains("module.cnet.layer2.0.norm3.running_mean"));
  EXPECT_TRUE(raw.Contains("module.cnet.layer2.0.downsample.1.running_mean"));
}

}  // namespace
}  // namespace animerun::test
