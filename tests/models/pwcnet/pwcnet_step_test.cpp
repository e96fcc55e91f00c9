// PWC-Net's progress hook: 7 steps (extractors, five decoder levels, refiner), abort on
// false, no change to the flow.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "models/common/flow_model.h"
#include "models/pwcnet/pwcnet.h"

namespace animerun::models {
namespace {

TEST(PwcFlowStep, ReportsLevelsAndAborts) {
  torch::manual_seed(3);
  const auto a = torch::rand({1, 3, 50, 70}) * 255, b = torch::rand({1, 3, 50, 70}) * 255;
  torch::manual_seed(5);
  auto model = CreatePwcNet();
  const auto expected = model->Estimate(a, b, FlowInferenceOptions());

  std::vector<std::pair<int, int>> calls;
  FlowInferenceOptions hooked;
  hooked.on_step = [&](int done, int total) {
    calls.emplace_back(done, total);
    return true;
  };
  const auto flow = model->Estimate(a, b, hooked);
  ASSERT_EQ(calls.size(), 7u);
  for (int k = 0; k < 7; ++k) EXPECT_EQ(calls[k], std::make_pair(k + 1, 7));
  EXPECT_TRUE(torch::equal(flow, expected));

  int n = 0;
  hooked.on_step = [&](int, int) { return ++n < 3; };
  EXPECT_THROW(model->Estimate(a, b, hooked), EstimateCancelled);
  EXPECT_EQ(n, 3);
}

}  // namespace
}  // namespace animerun::models
