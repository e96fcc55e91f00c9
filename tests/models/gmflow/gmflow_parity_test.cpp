// GMFlow and GMFlow-refine against the official Python outputs in ../shared/golden: every
// .npy output the manifest lists for a case (final flow, per-scale flows, and for the first
// case the backbone / transformer / matching intermediates), within the case's atol.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/common/input_padder.h"
#include "models/common/runtime.h"
#include "models/golden_manifest.h"
#include "models/golden_util.h"
#include "models/gmflow/gmflow.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

void RunCases(const std::string& model, bool refine) {
  ConfigureThreads(2);  // the golden outputs were made with 2 threads
  const auto cases = test::GoldenCases({model});
  ASSERT_FALSE(cases.empty()) << "no " << model << " cases in the manifest";
  GmflowModel net(GmflowConfig::Official(refine));
  const auto report = net.LoadWeights((test::GoldenDir() / cases[0].weights).string());
  ASSERT_TRUE(report.ok()) << report.Summary();
  const torch::Device device = test::ParityDevice();
  net.To(device);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    ASSERT_GT(c.atol, 0) << "no atol";
    ASSERT_FALSE(c.npy_outputs.empty());
    ASSERT_EQ(c.weights, cases[0].weights);
    const auto img1 = test::ReadPngAsBatch((test::GoldenDir() / c.img1).string()).to(device);
    const auto img2 = test::ReadPngAsBatch((test::GoldenDir() / c.img2).string()).to(device);
    const InputPadder padder(img1.size(2), img1.size(3), "sintel", net.net()->config().padding_factor);
    GmflowIntermediates mid;
    torch::Tensor flow_up;
    {
      torch::InferenceMode guard;
      flow_up = net.net()->forward(padder.Pad(img1), padder.Pad(img2), &mid);
    }
    const auto flow_final = padder.Unpad(flow_up);
    for (const auto& rel : c.npy_outputs) {
      const std::string name = std::filesystem::path(rel).stem().string();
      auto per_scale = [&](const std::vector<torch::Tensor>& v) -> torch::Tensor {
        const size_t k = std::stoul(name.substr(5, name.find('_') - 5));  // "scale{k}_..."
        EXPECT_LT(k, v.size()) << name;
        return k < v.size() ? v[k] : torch::Tensor();
      };
      torch::Tensor got;
      if (name == "flow_preds") {
        got = flow_up.unsqueeze(0);  // eval mode: only the final upsampled flow
      } else if (name == "flow_final") {
        got = flow_final;
      } else if (name.rfind("backbone_out", 0) == 0) {
        const size_t i = std::stoul(name.substr(12));
        ASSERT_LT(i, mid.backbone.size()) << name;
        got = mid.backbone[i];
      } else if (name.find("_flow_after_prop") != std::string::npos) {
        got = per_scale(mid.flow_after_prop);
      } else if (name.find("_matching_flow") != std::string::npos) {
        got = per_scale(mid.matching_flow);
      } else if (name.find("_transformer_feature0") != std::string::npos) {
        got = per_scale(mid.transformer0);
      } else if (name.find("_transformer_feature1") != std::string::npos) {
        got = per_scale(mid.transformer1);
      } else {
        ADD_FAILURE() << "output " << name << " of " << c.id << " is not checked";
        continue;
      }
      ASSERT_TRUE(got.defined()) << name;
      test::ExpectGoldenClose(c.id, name, got, rel, c.atol);
    }
  }
  // The FlowModel path (padding, inference mode, unpadding) gives the same flow (checked on
  // the first, smallest case only, to keep the runtime down).
  if (refine) return;
  const auto& c = cases[0];
  const auto img1 = test::ReadPngAsBatch((test::GoldenDir() / c.img1).string());
  const auto img2 = test::ReadPngAsBatch((test::GoldenDir() / c.img2).string());
  for (const auto& rel : c.npy_outputs)
    if (std::filesystem::path(rel).stem() == "flow_final")
      test::ExpectGoldenClose(c.id, "estimate_flow_final", net.Estimate(img1, img2, FlowInferenceOptions{}), rel, c.atol);
}

TEST(GmflowParity, Gmflow) {
  ANIMERUN_REQUIRE_GOLDEN();
  RunCases("gmflow", false);
}

TEST(GmflowParity, GmflowRefine) {
  ANIMERUN_REQUIRE_GOLDEN();
  RunCases("gmflow-refine", true);
}

}  // namespace
}  // namespace animerun::models
