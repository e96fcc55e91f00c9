// bf16 inference of RAFT and RAFT-small: close to fp32 on the golden inputs, fp32 restored
// bit for bit afterwards, fp32 weights saved after a bf16 run; ModulePrecision itself.
#include <gtest/gtest.h>

#include "models/common/checkpoint.h"
#include "models/common/flow_model.h"
#include "models/precision_util.h"
#include "models/raft/raft.h"
#include "test_paths.h"

namespace animerun::test {
namespace {

// Tolerances (pixels) of bf16 against fp32 after the golden cases' 4 iterations, with
// margin over what was measured (docs/benchmarks.md, "Flow models").
constexpr Bf16Limits kRaftLimits{0.03, 0.15};       // measured mean 0.012, max 0.038
constexpr Bf16Limits kRaftSmallLimits{0.08, 0.5};   // measured mean 0.041, max 0.25

TEST(RaftPrecision, Bf16CloseToFp32OnGolden) {
  ANIMERUN_REQUIRE_GOLDEN();
  const char* const pairs[] = {"dev_a", "dev_b"};
  for (int k = 0, n = Bf16PairCount(2); k < n; ++k) {
    const char* pair = pairs[k];
    auto m = models::CreateRaft(false);
    ExpectBf16CloseToFp32(*m, "raft/raft.pth", std::string("inputs/") + pair,
                          std::string("raft/raft_") + pair + "_it4/flow_final.npy", 2e-4, 4, kRaftLimits);
  }
}

TEST(RaftPrecision, SmallBf16CloseToFp32OnGolden) {
  ANIMERUN_REQUIRE_GOLDEN();
  const char* const pairs[] = {"dev_a", "dev_b"};
  for (int k = 0, n = Bf16PairCount(2); k < n; ++k) {
    const char* pair = pairs[k];
    auto m = models::CreateRaft(true);
    ExpectBf16CloseToFp32(*m, "raft-small/raft-small.pth", std::string("inputs/") + pair,
                          std::string("raft-small/raftsmall_") + pair + "_it4/flow_final.npy", 5e-4, 4,
                          kRaftSmallLimits);
  }
}

// After a bf16 run the saved file holds the original fp32 weights (also norm3, which is
// registered twice), and loading restores fp32 first.
TEST(RaftPrecision, SaveAfterBf16KeepsFp32Weights) {
  ANIMERUN_REQUIRE_GOLDEN();
  const auto dir = ScratchDir("raft_bf16_save");
  auto m = models::CreateRaft(false);
  m->LoadWeights((GoldenDir() / "raft/raft.pth").string());
  models::FlowInferenceOptions o;
  o.iters = 1;
  o.precision = "bf16";
  const auto img = torch::rand({1, 3, 64, 64}) * 255;
  m->Estimate(img, img, o);
  const auto path = (dir / "after_bf16.pth").string();
  m->SaveWeights(path);
  const auto original = models::LoadStateDict((GoldenDir() / "raft/raft.pth").string());
  const auto saved = models::LoadStateDict(path);
  ASSERT_EQ(saved.size(), original.size());
  for (const auto& [key, tensor] : original.entries) {
    const auto* t = saved.Find(key);
    ASSERT_NE(t, nullptr) << key;
    EXPECT_EQ(t->scalar_type(), tensor.scalar_type()) << key;
    EXPECT_TRUE(torch::equal(*t, tensor)) << key;
  }
}

// A module with a submodule registered under two names and an integer buffer: bf16 turns
// the float tensors (once) to bf16 and leaves the integer one; fp32 gives back the same
// values bit for bit, from inside InferenceMode too.
TEST(ModulePrecision, RoundTripIsExact) {
  struct Net : torch::nn::Module {
    Net() {
      conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)));
      bn = register_module("bn", torch::nn::BatchNorm2d(4));
      register_module("alias", bn);
      steps = register_buffer("steps", torch::arange(5, torch::kLong));
    }
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};
    torch::Tensor steps;
  } net;
  net.eval();  // a training-mode forward would update the running statistics
  torch::nn::init::normal_(net.bn->running_mean);
  std::vector<torch::Tensor> before;
  for (const auto& p : net.parameters()) before.push_back(p.detach().clone());
  for (const auto& b : net.buffers()) before.push_back(b.detach().clone());

  models::ModulePrecision precision;
  {
    c10::InferenceMode guard;
    precision.Use(net, "bf16");
  }
  EXPECT_EQ(precision.current(), "bf16");
  EXPECT_EQ(models::ModuleDtype(net), torch::kBFloat16);
  EXPECT_EQ(net.conv->weight.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(net.bn->running_var.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(net.steps.scalar_type(), torch::kLong);
  precision.Use(net, "bf16");  // idempotent
  {
    c10::InferenceMode guard;
    const auto y = net.bn->forward(net.conv->forward(torch::rand({1, 3, 8, 8}).to(torch::kBFloat16)));
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  }
  precision.Restore();
  EXPECT_EQ(precision.current(), "fp32");
  EXPECT_EQ(models::ModuleDtype(net), torch::kFloat);
  size_t i = 0;
  for (const auto& p : net.parameters()) EXPECT_TRUE(torch::equal(p, before[i++]));
  for (const auto& b : net.buffers()) EXPECT_TRUE(torch::equal(b, before[i++]));
  EXPECT_THROW(precision.Use(net, "fp16"), std::invalid_argument);  // CUDA only; this module is on the CPU
  EXPECT_EQ(precision.current(), "fp32");
  EXPECT_EQ(models::PrecisionDtype("bf16"), torch::kBFloat16);
}

TEST(RaftPrecision, OptionsRejectUnknownPrecision) {
  models::FlowInferenceOptions o;
  o.precision = "fp8";
  EXPECT_THROW(o.Check(), std::invalid_argument);
  o.precision = "bf16";
  EXPECT_NO_THROW(o.Check());
  o.precision = "fp16";  // valid; the network refuses it on the CPU (above)
  EXPECT_NO_THROW(o.Check());
}

}  // namespace
}  // namespace animerun::test
