// PWC-Net (run.py estimate()) against the official Python outputs in ../shared/golden: every
// .npy output the manifest lists for a case (final flow, raw network output, and for the
// first case the level-6 and level-2 cost volumes), within the case's atol. The weights are
// the legacy (non-zip) torch.save file with the released key names.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/common/runtime.h"
#include "models/golden_util.h"
#include "models/pwcnet/pwcnet.h"
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

TEST(PwcParity, AllCases) {
  ANIMERUN_REQUIRE_GOLDEN();
  ConfigureThreads(2);  // the golden outputs were made with 2 threads
  const auto cases = ManifestCases("pwc");
  ASSERT_FALSE(cases.empty()) << "no pwc cases in the manifest";
  PwcNetModel model;
  const auto report = model.LoadWeights((test::GoldenDir() / cases[0].weights).string());
  ASSERT_TRUE(report.ok()) << report.Summary();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    ASSERT_GT(c.atol, 0) << "no atol";
    ASSERT_FALSE(c.npy.empty());
    ASSERT_EQ(c.weights, cases[0].weights);
    const auto img1 = test::ReadPngAsBatch((test::GoldenDir() / c.img1).string());
    const auto img2 = test::ReadPngAsBatch((test::GoldenDir() / c.img2).string());
    torch::Tensor flow, raw;
    PwcIntermediates mid;
    {
      torch::InferenceMode guard;
      flow = PwcEstimate(model.net(), img1, img2, &raw, &mid);
    }
    ASSERT_EQ(mid.correlation.size(), 5u);
    for (const auto& rel : c.npy) {
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
      Compare(c.id, name, got, rel, c.atol);
      // The FlowModel entry point gives the same flow.
      if (name == "flow_final") Compare(c.id, "estimate_flow_final", model.Estimate(img1, img2, {}), rel, c.atol);
    }
  }
}

}  // namespace
}  // namespace animerun::models
