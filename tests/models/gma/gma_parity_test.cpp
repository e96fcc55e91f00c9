// GMA against the official Python outputs (../shared/golden): strict checkpoint load, every
// stored output (per-iteration flows, test-mode flows, features, first correlation lookup,
// the attention matrix) within the manifest tolerance.
#include <gtest/gtest.h>

#include <chrono>
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
  models::ConfigureThreads(2);  // the fixtures were made with 2 threads
  const auto cases = GoldenCases({"gma"});
  ASSERT_FALSE(cases.empty()) << "no gma cases in the manifest";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    const auto t0 = std::chrono::steady_clock::now();
    models::GmaNet net(1);
    const auto report = models::LoadIntoModule(*net, models::LoadStateDict((GoldenDir() / c.weights).string()));
    EXPECT_TRUE(report.ok()) << report.Summary();
    net->eval();

    c10::InferenceMode guard;
    auto img1 = ReadPngAsBatch((GoldenDir() / c.img1).string());
    auto img2 = ReadPngAsBatch((GoldenDir() / c.img2).string());
    const models::InputPadder padder(img1.size(2), img1.size(3), c.padding);
    models::RaftForwardOptions opt;
    opt.iters = c.iters;
    opt.all_predictions = true;
    models::RaftIntermediates mid;
    const auto out = net->Forward(padder.Pad(img1), padder.Pad(img2), opt, &mid);
    CompareRaftOutputs(c, out, mid, padder.Unpad(out.flow_up));

    opt.all_predictions = false;
    const auto fast = net->Forward(padder.Pad(img1), padder.Pad(img2), opt);
    EXPECT_EQ(MaxAbsDiff(fast.flow_up, out.flow_up), 0.0);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "[parity] " << c.id << " took " << s << " s\n";
  }
}

TEST(GmaParity, FlowModelEstimateMatchesFlowFinal) {
  ANIMERUN_REQUIRE_GOLDEN();
  models::ConfigureThreads(2);
  const auto c = GoldenCases({"gma"}).at(0);
  auto model = models::CreateGma();
  EXPECT_EQ(model->name(), "gma");
  EXPECT_TRUE(model->LoadWeights((GoldenDir() / c.weights).string()).ok());
  models::FlowInferenceOptions opt;
  opt.iters = c.iters;
  const auto flow = model->Estimate(ReadPngAsBatch((GoldenDir() / c.img1).string()),
                                    ReadPngAsBatch((GoldenDir() / c.img2).string()), opt);
  ExpectGoldenClose(c.id, "estimate_flow_final", flow, "gma/" + c.id + "/flow_final.npy", c.atol);
}

}  // namespace
}  // namespace animerun::test
