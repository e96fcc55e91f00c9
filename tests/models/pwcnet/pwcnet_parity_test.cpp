// PWC-Net (run.py estimate()) against the official Python outputs in ../shared/golden: every
// .npy output the manifest lists for a case (final flow, raw network output, and for the
// first case the level-6 and level-2 cost volumes), within the case's atol. The weights are
// the legacy (non-zip) torch.save file with the released key names.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/common/runtime.h"
#include "models/golden_manifest.h"
#include "models/golden_util.h"
#include "models/pwcnet/pwcnet.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

TEST(PwcParity, AllCases) {
  ANIMERUN_REQUIRE_GOLDEN();
  ConfigureThreads(2);  // the golden outputs were made with 2 threads
  const auto cases = test::GoldenCases({"pwc"});
  ASSERT_FALSE(cases.empty()) << "no pwc cases in the manifest";
  PwcNetModel model;
  const auto report = model.LoadWeights((test::GoldenDir() / cases[0].weights).string());
  ASSERT_TRUE(report.ok()) << report.Summary();
  const torch::Device device = test::ParityDevice();
  model.To(device);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    ASSERT_GT(c.atol, 0) << "no atol";
    ASSERT_FALSE(c.npy_outputs.empty());
    ASSERT_EQ(c.weights, cases[0].weights);
    const auto img1 = test::ReadPngAsBatch((test::GoldenDir() / c.img1).string()).to(device);
    const auto img2 = test::ReadPngAsBatch((test::GoldenDir() / c.img2).string()).to(device);
    torch::Tensor flow, raw;
    PwcIntermediates mid;
    {
      torch::InferenceMode guard;
      flow = PwcEstimate(model.net(), img1, img2, &raw, &mid);
    }
    ASSERT_EQ(mid.correlation.size(), 5u);
    for (const auto& rel : c.npy_outputs) {
      const std::string name = std::filesystem::path(rel).stem().string();
      torch::Tensor got;
      if (name == "flow_final") {
        got = flow;
      } else if (name == "network_output") {
        got = raw;
      } else if (name == "corr_level6") {
        got = mid.correlation.front();
      } else if (name == "corr_level2") {
        got = mid.correlation.back();
      } else {
        ADD_FAILURE() << "output " << name << " of " << c.id << " is not checked";
        continue;
      }
      test::ExpectGoldenClose(c.id, name, got, rel, c.atol);
      // The FlowModel entry point gives the same flow.
      if (name == "flow_final") test::ExpectGoldenClose(c.id, "estimate_flow_final", model.Estimate(img1, img2, {}), rel, c.atol);
    }
  }
}

}  // namespace
}  // namespace animerun::models
