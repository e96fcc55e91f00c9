// Test-only: the parity cases of ../shared/golden/manifest.json and the comparison of a
// C++ output with a golden .npy (shared by the RAFT, GMA, GMFlow and PWC-Net parity tests).
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
#include "parity.h"
#include "test_paths.h"

namespace animerun::test {

struct GoldenCase {
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
inline std::vector<GoldenCase> GoldenCases(const std::vector<std::string>& models) {
  std::ifstream in(GoldenDir() / "manifest.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // The "flowviz" section after the cases is not a case: cut it off.
  const auto viz = text.find("\"flowviz\":", text.find("\"cases\":"));
  if (viz != std::string::npos) text.resize(viz);
  std::vector<GoldenCase> cases;
  const std::string key = "\"case_id\": \"";
  for (size_t p = text.find(key); p != std::string::npos;) {
    const size_t next = text.find(key, p + 1);
    const std::string block = text.substr(p, next == std::string::npos ? std::string::npos : next - p);
    p = next;
    GoldenCase c;
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
  ExpectParity(case_id, name, diff, atol);
  if (worst && diff > *worst) *worst = diff;
}

}  // namespace animerun::test
