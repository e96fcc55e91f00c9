// Test-only: the RAFT-family golden cases of ../shared/golden/manifest.json and the
// comparison of every stored output with the C++ forward (used by the RAFT and GMA tests).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/golden_util.h"
#include "models/raft/raft.h"
#include "test_paths.h"

namespace animerun::test {

struct RaftParityCase {
  std::string id, model, weights, img1, img2;
  std::string padding = "sintel";  // options.padding.mode
  int iters = 0;
  double atol = 0;
  std::vector<std::string> npy_outputs;  // golden-relative paths of the .npy outputs
};

namespace parity_detail {

inline std::string StringField(const std::string& block, const std::string& key, size_t from = 0) {
  const std::string pat = "\"" + key + "\": \"";
  const auto p = block.find(pat, from);
  if (p == std::string::npos) return "";
  const auto b = p + pat.size();
  return block.substr(b, block.find('"', b) - b);
}

inline double NumberField(const std::string& block, const std::string& key) {
  const std::string pat = "\"" + key + "\": ";
  const auto p = block.find(pat);
  if (p == std::string::npos) return -1;
  return std::stod(block.substr(p + pat.size(), 32));
}

}  // namespace parity_detail

// The manifest's cases whose "model" is one of models. A minimal scan of the file that
// json.dump(indent=1) writes: each case block runs from its "case_id" to the next one. The
// first "iters" of a block is options.iters (model_args comes later).
inline std::vector<RaftParityCase> ManifestCases(const std::vector<std::string>& models) {
  std::ifstream in(GoldenDir() / "manifest.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<RaftParityCase> cases;
  const std::string key = "\"case_id\": \"";
  for (size_t p = text.find(key); p != std::string::npos;) {
    const size_t next = text.find(key, p + 1);
    const std::string block = text.substr(p, next == std::string::npos ? std::string::npos : next - p);
    p = next;
    RaftParityCase c;
    c.id = parity_detail::StringField(block, "case_id");
    c.model = parity_detail::StringField(block, "model");
    if (std::find(models.begin(), models.end(), c.model) == models.end()) continue;
    c.weights = parity_detail::StringField(block, "weights");
    c.img1 = parity_detail::StringField(block, "img1");
    c.img2 = parity_detail::StringField(block, "img2");
    const std::string mode = parity_detail::StringField(block, "mode");
    if (!mode.empty()) c.padding = mode;
    c.iters = static_cast<int>(parity_detail::NumberField(block, "iters"));
    c.atol = parity_detail::NumberField(block, "atol");
    for (size_t f = block.find("\"file\": \""); f != std::string::npos; f = block.find("\"file\": \"", f + 1)) {
      const std::string file = parity_detail::StringField(block, "file", f);
      if (file.size() > 4 && file.substr(file.size() - 4) == ".npy") c.npy_outputs.push_back(file);
    }
    cases.push_back(c);
  }
  return cases;
}

// Compares one output with its golden file, records and prints the max abs diff.
inline void ExpectGoldenClose(const std::string& case_id, const std::string& name, const torch::Tensor& got,
                              const std::string& golden_rel, double atol, double* worst = nullptr) {
  const auto want = ReadNpyTensor((GoldenDir() / golden_rel).string());
  ASSERT_EQ(got.sizes(), want.sizes()) << case_id << " " << name;
  const double diff = MaxAbsDiff(got.detach().to(torch::kCPU, torch::kFloat), want.to(torch::kFloat));
  std::cout << "[parity] " << case_id << " " << name << " max_abs_diff=" << diff << " (atol " << atol << ")\n";
  ::testing::Test::RecordProperty(case_id + "." + name + ".max_abs_diff", std::to_string(diff));
  EXPECT_LE(diff, atol) << case_id << " " << name;
  EXPECT_TRUE(std::isfinite(diff)) << case_id << " " << name;
  if (worst && diff > *worst) *worst = diff;
}

// Checks every .npy output of a case against a full forward (all_predictions) and its
// intermediates. flow_final: flow_up after the official unpad.
inline void CompareRaftOutputs(const RaftParityCase& c, const models::RaftOutput& out, const models::RaftIntermediates& mid,
                               const torch::Tensor& flow_final) {
  // The manifest says intermediates may use 1e-4; never looser than the case tolerance.
  const double mid_atol = std::max(1e-4, c.atol);
  ASSERT_FALSE(c.npy_outputs.empty()) << c.id;
  for (const auto& rel : c.npy_outputs) {
    const std::string name = std::filesystem::path(rel).stem().string();
    if (name == "flow_predictions") {
      ASSERT_EQ(static_cast<int>(out.flow_predictions.size()), c.iters);
      ExpectGoldenClose(c.id, name, torch::stack(out.flow_predictions, 0), rel, c.atol);
    } else if (name == "flow_up") {
      ExpectGoldenClose(c.id, name, out.flow_up, rel, c.atol);
    } else if (name == "flow_final") {
      ExpectGoldenClose(c.id, name, flow_final, rel, c.atol);
    } else if (name == "flow_low") {
      ExpectGoldenClose(c.id, name, out.flow_low, rel, c.atol);
    } else if (name == "fnet_fmap1") {
      ExpectGoldenClose(c.id, name, mid.fmap1, rel, mid_atol);
    } else if (name == "fnet_fmap2") {
      ExpectGoldenClose(c.id, name, mid.fmap2, rel, mid_atol);
    } else if (name == "cnet_out") {
      ExpectGoldenClose(c.id, name, mid.cnet, rel, mid_atol);
    } else if (name == "corr_iter0") {
      ExpectGoldenClose(c.id, name, mid.corr_iter0, rel, mid_atol);
    } else if (name == "attention") {
      ASSERT_TRUE(mid.attention.defined()) << c.id;
      ExpectGoldenClose(c.id, name, mid.attention, rel, mid_atol);
    } else {
      ADD_FAILURE() << c.id << ": golden output " << rel << " is not compared by this test";
    }
  }
}

}  // namespace animerun::test
