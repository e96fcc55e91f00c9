// The built-in AnT weights (trained by the project on `animerun synth --style varied`,
// docs/training.md) match segments better than the geometric matcher (position, area,
// shape and colour assignment) on generated cartoon pairs from seeds the training never
// saw: the shipping criterion asks that of them on AnimeRun-style frames.
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "core/data/animerun_dataset.h"
#include "core/flow/flow_models.h"
#include "core/segments/match_eval.h"
#include "core/segments/matcher_factory.h"
#include "flow_test_data.h"

namespace animerun::segments {
namespace {

// The matcher's accuracy over the dataset; its matches pair by pair into `matches` if given.
double Accuracy(const data::AnimeRunDataset& ds, SegmentMatcher& matcher,
                std::vector<std::vector<int>>* matches = nullptr) {
  const MatchEvalResult r = EvaluateMatch(ds, [&](const data::FramePair&, const data::PairData& d) {
    std::vector<int> m = matcher.Match({d.image1, d.image2, d.segment1, d.segment2, cv::Mat()}).matches;
    if (matches != nullptr) matches->push_back(m);
    return m;
  });
  EXPECT_TRUE(r.overall.acc.has_value());
  return r.overall.acc.value_or(0.0);
}

TEST(BuiltinAntWeights, BeatTheGeometricMatcherOnUnseenVariedFrames) {
  const std::string ref = flow::BuiltinWeightsRef("ant");
  // This test runs as soon as resources/weights/ant.pth is committed and embedded.
  if (ref.empty()) GTEST_SKIP() << "no built-in AnT weights in this build: " << flow::DescribeBuiltinWeights();
  ASSERT_EQ(ref, "builtin:ant");
  EXPECT_NE(flow::BuiltinWeightsLabel(ref).find("not the official"), std::string::npos);

  const auto ds = data::AnimeRunDataset::Open(test::MakeUnseenVariedData("builtin_ant_quality", 2, 2, 640, 368, 424242));
  ASSERT_EQ(ds.AllPairs().size(), 2u);

  MatcherOptions mo;
  mo.weights = ref;
  const auto ant = CreateMatcher("ant", mo);
  const auto geometric = CreateMatcher("geometric", MatcherOptions{});
  std::vector<std::vector<int>> m32;
  const double acc_ant = Accuracy(ds, *ant, &m32), acc_geo = Accuracy(ds, *geometric);
  std::printf("[builtin] AnT accuracy %.4f, geometric matcher %.4f\n", acc_ant, acc_geo);
  EXPECT_GT(acc_geo, 0.3);  // the baseline does real work on these pairs
  EXPECT_GT(acc_ant, acc_geo);

  // bf16 (the encoder's first layer, and on AVX-512 BF16 CPUs layer3's products by a bf16
  // Winograd) keeps the trained matcher's answers: the same match for nearly every segment.
  MatcherOptions mo16 = mo;
  mo16.precision = "bf16";
  const auto ant16 = CreateMatcher("ant", mo16);
  std::vector<std::vector<int>> m16;
  const double acc_ant16 = Accuracy(ds, *ant16, &m16);
  ASSERT_EQ(m16.size(), m32.size());  // the same pairs in the same order
  int64_t same = 0, total = 0;
  for (size_t p = 0; p < m32.size(); ++p) {
    ASSERT_EQ(m32[p].size(), m16[p].size());
    for (size_t i = 0; i < m32[p].size(); ++i) same += m32[p][i] == m16[p][i];
    total += static_cast<int64_t>(m32[p].size());
  }
  std::printf("[builtin] bf16: accuracy %.4f, %lld of %lld matches as fp32\n", acc_ant16, static_cast<long long>(same),
              static_cast<long long>(total));
  ASSERT_GT(total, 0);
  EXPECT_GE(static_cast<double>(same) / static_cast<double>(total), 0.98);
  EXPECT_NEAR(acc_ant16, acc_ant, 0.02);
}

}  // namespace
}  // namespace animerun::segments
