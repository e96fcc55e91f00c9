// Test-only: the comparison of every stored output of a RAFT-family golden case with the
// C++ forward (used by the RAFT and GMA tests).
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

#include "models/common/checkpoint.h"
#include "models/common/input_padder.h"
#include "models/common/runtime.h"
#include "models/golden_manifest.h"
#include "models/golden_util.h"
#include "models/raft/raft.h"
#include "test_paths.h"

namespace animerun::test {

using RaftParityCase = GoldenCase;

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

// One RAFT-family case end to end: strict load of the official checkpoint into net, the
// full forward (all_predictions) against every stored output, and the test-mode forward
// (only the last iteration upsampled) giving the same final flow.
template <class Net>
void RunRaftFamilyCase(const RaftParityCase& c, Net& net) {
  models::ConfigureThreads(2);  // the fixtures were made with 2 threads
  const auto report = models::LoadIntoModule(*net, models::LoadStateDict((GoldenDir() / c.weights).string()),
                                             nullptr, /*strict=*/true);
  EXPECT_TRUE(report.ok()) << report.Summary();
  const torch::Device device = ParityDevice();
  net->to(device);
  net->eval();

  c10::InferenceMode guard;
  auto img1 = ReadPngAsBatch((GoldenDir() / c.img1).string()).to(device);
  auto img2 = ReadPngAsBatch((GoldenDir() / c.img2).string()).to(device);
  const models::InputPadder padder(img1.size(2), img1.size(3), c.padding);
  models::RaftForwardOptions opt;
  opt.iters = c.iters;
  opt.all_predictions = true;
  models::RaftIntermediates mid;
  const auto out = net->Forward(padder.Pad(img1), padder.Pad(img2), opt, &mid);
  CompareRaftOutputs(c, out, mid, padder.Unpad(out.flow_up));

  opt.all_predictions = false;
  const auto fast = net->Forward(padder.Pad(img1), padder.Pad(img2), opt);
  EXPECT_TRUE(fast.flow_predictions.empty());
  EXPECT_EQ(MaxAbsDiff(fast.flow_up, out.flow_up), 0.0);
  EXPECT_EQ(MaxAbsDiff(fast.flow_low, out.flow_low), 0.0);
}

}  // namespace animerun::test
