// GMFlow and GMFlow-refine against the official Python outputs in ../shared/golden: every
// .npy output the manifest lists for a case (final flow, per-scale flows, and for the first
// case the backbone / transformer / matching intermediates), within the case's atol.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/common/input_padder.h"
#include "models/common/runtime.h"
#include "models/golden_util.h"
#include "models/gmflow/gmflow.h"
#include "test_paths.h"

namespace animerun::models {
namespace {

struct Case {
  std::string id, model, weights, img1, img2;
  double atol = -1;
  std::vector<std::string> npy;  // golden-relative output files
};

std::string Field(const std::string& block, const std::string& key, size_t from = 0) {
  const std::string pat = "\"" + key + "\": \"";
  const auto p = block.find(pat, from);
  if (p == std::string::npos) return "";
  const auto b = p + pat.size();
  return block.substr(b, block.find('"', b) - b);
}

// Minimal scan of manifest.json (json.dump indent=1): a case runs from its "case_id" to the
// next one; the "flowviz" section after the cases is cut off.
std::vector<Case> ManifestCases(const std::string& model) {
  std::ifstream in(test::GoldenDir() / "manifest.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const auto viz = text.find("\"flowviz\":", text.find("\"cases\":"));
  if (viz != std::string::npos) text.resize(viz);
  std::vector<Case> cases;
  const std::string key = "\"case_id\": \"";
  for (size_t p = text.find(key); p != std::string::npos;) {
    const size_t next = text.find(key, p + 1);
    const std::string block = text.substr(p, next == std::string::npos ? std::string::npos : next - p);
    p = next;
    Case c;
    c.id = Field(block, "case_id");
    c.model = Field(block, "model");
    if (c.model != model) continue;
    c.weights = Field(block, "weights");
    c.img1 = Field(block, "img1");
    c.img2 = Field(block, "img2");
    const auto a = block.find("\"atol\": ");
    if (a != std::string::npos) c.atol = std::stod(block.substr(a + 8, 32));
    for (size_t f = block.find("\"file\": \""); f != std::string::npos; f = block.find("\"file\": \"", f + 1)) {
      const std::string file = Field(block, "file", f);
      if (file.size() > 4 && file.compare(file.size() - 4, 4, ".npy") == 0) c.npy.push_back(file);
    }
    cases.push_back(c);
  }
  return cases;
}

double Compare(const std::string& id, const std::string& name, const torch::Tensor& got, const std::string& rel,
               double atol) {
  const auto want = test::ReadNpyTensor((test::GoldenDir() / rel).string());
  EXPECT_EQ(got.sizes(), want.sizes()) << id << " " << name;
  if (got.sizes() != want.sizes()) return INFINITY;
  const double diff = test::MaxAbsDiff(got.to(torch::kCPU, torch::kFloat), want.to(torch::kFloat));
  std::cout << "[parity] " << id << " " << name << " max_abs_diff=" << diff << " (atol " << atol << ")" << std::endl;
  ::testing::Test::RecordProperty(id + "." + name + ".max_abs_diff", std::to_string(diff));
  EXPECT_LE(diff, atol) << id << " " << name;
  return diff;
}

void RunCases(const std::string& model, bool refine) {
  ConfigureThreads(2);  // the golden outputs were made with 2 threads
  const auto cases = ManifestCases(model);
  ASSERT_FALSE(cases.empty()) << "no " << model << " cases in the manifest";
  GmflowModel net(GmflowConfig::Official(refine));
  const auto report = net.LoadWeights((test::GoldenDir() / cases[0].weights).string());
  ASSERT_TRUE(report.ok()) << report.Summary();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    ASSERT_GT(c.atol, 0) << "no atol";
    ASSERT_FALSE(c.npy.empty());
    ASSERT_EQ(c.weights, cases[0].weights);
    const auto img1 = test::ReadPngAsBatch((test::GoldenDir() / c.img1).string());
    const auto img2 = test::ReadPngAsBatch((test::GoldenDir() / c.img2).string());
    const InputPadder padder(img1.size(2), img1.size(3), "sintel", net.net()->config().padding_factor);
    GmflowIntermediates mid;
    torch::Tensor flow_up;
    {
      torch::InferenceMode guard;
      flow_up = net.net()->forward(padder.Pad(img1), padder.Pad(img2), &mid);
    }
    const auto flow_final = padder.Unpad(flow_up);
    for (const auto& rel : c.npy) {
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
      Compare(c.id, name, got, rel, c.atol);
    }
  }
  // The FlowModel path (padding, inference mode, unpadding) gives the same flow (checked on
  // the first, smallest case only, to keep the runtime down).
  if (refine) return;
  const auto& c = cases[0];
  const auto img1 = test::ReadPngAsBatch((test::GoldenDir() / c.img1).string());
  const auto img2 = test::ReadPngAsBatch((test::GoldenDir() / c.img2).string());
  for (const auto& rel : c.npy)
    if (std::filesystem::path(rel).stem() == "flow_final")
      Compare(c.id, "estimate_flow_final", net.Estimate(img1, img2, FlowInferenceOptions{}), rel, c.atol);
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
