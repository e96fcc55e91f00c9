// The per-iteration hook (FlowInferenceOptions::on_step) of RAFT, RAFT-small and GMA:
// called once per refinement iteration with (k, iters), aborts the pass when it returns
// false, and leaves the flow unchanged.
#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

#include "models/common/flow_model.h"
#include "models/gma/gma.h"
#include "models/raft/raft.h"

namespace animerun::models {
namespace {

torch::Tensor Image(int64_t h, int64_t w, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::rand({1, 3, h, w}) * 255;
}

std::vector<std::pair<std::string, std::unique_ptr<FlowModel>>> Models() {
  std::vector<std::pair<std::string, std::unique_ptr<FlowModel>>> out;
  torch::manual_seed(7);
  out.emplace_back("raft-small", CreateRaft(true));
  out.emplace_back("raft", CreateRaft(false));
  out.emplace_back("gma", CreateGma());
  return out;
}

TEST(RaftFlowStep, CalledOncePerIterationWithoutChangingTheFlow) {
  const auto a = Image(40, 56, 1), b = Image(40, 56, 2);
  for (auto& [name, model] : Models()) {
    FlowInferenceOptions plain;
    plain.iters = 4;
    const auto expected = model->Estimate(a, b, plain);

    std::vector<std::pair<int, int>> calls;
    FlowInferenceOptions hooked = plain;
    hooked.on_step = [&](int done, int total) {
      calls.emplace_back(done, total);
      return true;
    };
    const auto flow = model->Estimate(a, b, hooked);
    EXPECT_EQ(calls, (std::vector<std::pair<int, int>>{{1, 4}, {2, 4}, {3, 4}, {4, 4}})) << name;
    EXPECT_TRUE(torch::equal(flow, expected)) << name << ": the hook changed the flow";
  }
}

TEST(RaftFlowStep, ReturningFalseAbortsAfterThatIteration) {
  const auto a = Image(40, 56, 3), b = Image(40, 56, 4);
  for (auto& [name, model] : Models()) {
    int calls = 0;
    FlowInferenceOptions o;
    o.iters = 6;
    o.on_step = [&](int done, int) {
      ++calls;
      return done < 2;
    };
    EXPECT_THROW(model->Estimate(a, b, o), EstimateCancelled) << name;
    EXPECT_EQ(calls, 2) << name << ": no iteration may run after the hook said stop";
    // The model still works after an aborted pass.
    o.on_step = nullptr;
    const auto flow = model->Estimate(a, b, o);
    EXPECT_EQ(flow.sizes(), (std::vector<int64_t>{1, 2, 40, 56})) << name;
    EXPECT_TRUE(torch::isfinite(flow).all().item<bool>()) << name;
  }
}

TEST(RaftFlowStep, ForwardOptionsCarryTheHook) {
  // RaftNet::Forward directly (the path the training loop would use), all_predictions too.
  torch::manual_seed(11);
  RaftNet net(true);
  net->eval();
  torch::InferenceMode guard;
  const auto a = Image(128, 128, 5), b = Image(128, 128, 6);
  RaftForwardOptions o;
  o.iters = 3;
  o.all_predictions = true;
  std::vector<int> seen;
  o.on_step = [&](int done, int total) {
    EXPECT_EQ(total, 3);
    seen.push_back(done);
    return true;
  };
  const RaftOutput out = net->Forward(a, b, o);
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(out.flow_predictions.size(), 3u);
}

}  // namespace
}  // namespace animerun::models
