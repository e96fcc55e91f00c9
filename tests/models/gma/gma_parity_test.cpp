// GMA against the official Python outputs (../shared/golden): strict checkpoint load, every
// stored output (per-iteration flows, test-mode flows, features, first correlation lookup,
// the attention matrix) within the manifest tolerance.
#include <gtest/gtest.h>

#include <iostream>

#include "models/common/checkpoint.h"
#include "models/common/input_padder.h"
#include "models/common/runtime.h"
#include "models/gma/gma.h"
#include "models/golden_util.h"
#include "models/raft/raft_parity_util.h"
#include "test_paths.h"

namespace animerun::test {
namespace {

TEST(GmaParity, MatchesOfficial) {
  ANIMERUN_REQUIRE_GOLDEN();
  const auto cases = GoldenCases({"gma"});
  ASSERT_FALSE(cases.empty()) << "no gma cases in the manifest";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    models::GmaNet net(1);
    RunRaftFamilyCase(c, net);
  }
}

TEST(GmaParity, FlowModelEstimateMatchesFlowFinal) {
  ANIMERUN_REQUIRE_GOLDEN();
  models::ConfigureThreads(2);
  const auto c = GoldenCases({"gma"}).at(0);
  auto model = models::CreateGma();
  EXPECT_EQ(model->name(), "gma");
  EXPECT_TRUE(model->LoadWeights((GoldenDir() / c.weights).string()).ok());
  model->To(ParityDevice());
  models::FlowInferenceOptions opt;
  opt.iters = c.iters;
  const auto flow = model->Estimate(ReadPngAsBatch((GoldenDir() / c.img1).string()),
                                    ReadPngAsBatch((GoldenDir() / c.img2).string()), opt);
  ExpectGoldenClose(c.id, "estimate_flow_final", flow, "gma/" + c.id + "/flow_final.npy", c.atol);
}

}  // namespace
}  // namespace animerun::test
