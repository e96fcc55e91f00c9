// GMFlow's progress hook: 1 + (blocks + 1) * scales steps (backbone; each transformer
// block and the matching per scale), abort on false, no change to the flow.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "models/common/flow_model.h"
#include "models/gmflow/gmflow.h"

namespace animerun::models {
namespace {

TEST(GmflowFlowStep, ReportsStagesAndAborts) {
  torch::manual_seed(3);
  const auto a = torch::rand({1, 3, 48, 64}) * 255, b = torch::rand({1, 3, 48, 64}) * 255;
  for (bool refine : {false, true}) {
    torch::manual_seed(5);
    auto model = CreateGmflow(refine);
    FlowInferenceOptions plain;
    const auto expected = model->Estimate(a, b, plain);

    const int steps = refine ? 15 : 8;
    EXPECT_EQ(dynamic_cast<GmflowModel&>(*model).net()->Steps(), steps);
    std::vector<std::pair<int, int>> calls;
    FlowInferenceOptions hooked;
    hooked.on_step = [&](int done, int total) {
      calls.emplace_back(done, total);
      return true;
    };
    const auto flow = model->Estimate(a, b, hooked);
    ASSERT_EQ(calls.size(), static_cast<size_t>(steps)) << refine;
    for (int k = 0; k < steps; ++k) EXPECT_EQ(calls[k], std::make_pair(k + 1, steps)) << refine;
    EXPECT_TRUE(torch::equal(flow, expected)) << refine;

    int n = 0;
    hooked.on_step = [&](int, int) { return ++n < 2; };
    EXPECT_THROW(model->Estimate(a, b, hooked), EstimateCancelled);
    EXPECT_EQ(n, 2);
  }
}

}  // namespace
}  // namespace animerun::models
