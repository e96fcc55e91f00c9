// The built-in raft-small weights (trained by the project on `animerun synth --style varied`,
// docs/training.md) do real work: on generated cartoon pairs from a seed the training never
// saw, their end-point error is at most half that of predicting no motion, as the shipping
// criterion asks of them on AnimeRun-style frames.
#include <gtest/gtest.h>

#include "core/data/animerun_dataset.h"
#include "core/flow/flow_eval.h"
#include "core/flow/flow_models.h"
#include "core/flow/flow_predictor.h"
#include "flow_test_data.h"

namespace animerun::flow {
namespace {

TEST(BuiltinFlowWeights, HalveTheZeroFlowErrorOnUnseenVariedFrames) {
  const std::string ref = BuiltinWeightsRef("raft-small");
  // The weights are being trained (docs/training.md, "Built-in weights"); this test runs as
  // soon as resources/weights/raft-small.pth is committed and embedded.
  if (ref.empty()) GTEST_SKIP() << "no built-in raft-small weights in this build: " << DescribeBuiltinWeights();
  ASSERT_EQ(ref, "builtin:raft-small");
  EXPECT_NE(BuiltinWeightsLabel(ref).find("not the official"), std::string::npos);
  EXPECT_TRUE(WeightsAvailable(ref));

  const auto ds = data::AnimeRunDataset::Open(test::MakeUnseenVariedData("builtin_flow_quality", 2, 2, 640, 368, 424242));
  ASSERT_EQ(ds.AllPairs().size(), 2u);

  FlowRunOptions o;
  o.model = "raft-small";
  o.weights = ref;
  o.iters = 12;
  FlowRunner runner(o);
  const FlowMetrics net = EvaluateFlow(ds, [&](const data::FramePair&, const data::PairData& d) {
                            return runner.Predict(d.image1, d.image2);
                          }).overall;
  const FlowMetrics zero = EvaluateFlow(ds, [](const data::FramePair&, const data::PairData& d) {
                             return cv::Mat(d.flow_forward.size(), CV_32FC2, cv::Scalar(0, 0));
                           }).overall;
  ASSERT_TRUE(net.Get(FlowBucket::kAll) && zero.Get(FlowBucket::kAll));
  const double epe = *net.Get(FlowBucket::kAll), epe0 = *zero.Get(FlowBucket::kAll);
  std::printf("[builtin] raft-small EPE %.3f px, zero flow %.3f px\n", epe, epe0);
  EXPECT_GT(epe0, 2.0);  // the pairs move
  EXPECT_LE(epe, 0.5 * epe0);
}

}  // namespace
}  // namespace animerun::flow
