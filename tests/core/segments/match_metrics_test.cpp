#include "core/segments/match_metrics.h"

#include <fstream>
#include <limits>

#include <gtest/gtest.h>

#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "parity.h"
#include "test_paths.h"

namespace animerun::segments {
namespace {

cv::Mat Labels(int h, int w, std::initializer_list<int> v) {
  cv::Mat m(h, w, CV_32SC1);
  std::copy(v.begin(), v.end(), m.ptr<int>());
  return m;
}

double Val(const std::optional<double>& v) {
  EXPECT_TRUE(v.has_value());
  return v.value_or(std::numeric_limits<double>::quiet_NaN());
}

double F32(double x) { return static_cast<float>(x); }

// 4 segments: gt [1, -1, 2, 0], pred [1, -1, 0, -1] -> segments 0 and 1 right.
// Frame t's map has 2, 3, 4 and 3 pixels for segments 0..3.
const std::vector<int> kGt = {1, -1, 2, 0};
const std::vector<int> kPred = {1, -1, 0, -1};
cv::Mat Seg1() { return Labels(3, 4, {0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3}); }

TEST(MatchMetrics, FourSegmentsKnownAccuracies) {
  const MatchPairMetrics m = ComputeMatchPairMetrics(kPred, kGt, Seg1(), Labels(1, 2, {0, 301}));
  EXPECT_EQ(m.num_segments, 4);
  EXPECT_EQ(m.num_gt_unmatched, 1);
  EXPECT_EQ(m.num_correct, 2);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(Val(m.valid_accuracy), F32(1.0 / 3.0));  // float32 as the official torch result
  EXPECT_DOUBLE_EQ(Val(m.invalid_accuracy), 1.0);
  EXPECT_DOUBLE_EQ(Val(m.area_accuracy), F32(5.0 / 12.0));
  EXPECT_TRUE(m.large());
  // Without segment maps: no area accuracy, unknown acc_300 membership.
  const MatchPairMetrics bare = ComputeMatchPairMetrics(kPred, kGt, cv::Mat(), cv::Mat());
  EXPECT_FALSE(bare.area_accuracy.has_value());
  EXPECT_FALSE(bare.max_label2.has_value());
  EXPECT_FALSE(bare.large());
  EXPECT_DOUBLE_EQ(bare.accuracy, 0.5);
}

TEST(MatchMetrics, UnmatchedAndValidEdgeCases) {
  // No -1 in gt: invalid accuracy absent. All -1: valid accuracy absent.
  const auto none = ComputeMatchPairMetrics({0, 1}, {0, 2}, cv::Mat(), cv::Mat());
  EXPECT_FALSE(none.invalid_accuracy.has_value());
  EXPECT_DOUBLE_EQ(Val(none.valid_accuracy), 0.5);
  const auto all = ComputeMatchPairMetrics({-1, 3}, {-1, -1}, cv::Mat(), cv::Mat());
  EXPECT_FALSE(all.valid_accuracy.has_value());
  EXPECT_DOUBLE_EQ(Val(all.invalid_accuracy), 0.5);
  EXPECT_DOUBLE_EQ(all.accuracy, 0.5);
}

TEST(MatchMetrics, AreaUsesTheOfficialDenominator) {
  // Labels {0, 1, 5}: K = 3 distinct, so the denominator counts labels 0..2 only (the
  // official num0), and the 2 pixels of label 5 are left out.
  const cv::Mat seg = Labels(2, 3, {0, 0, 1, 5, 5, 1});
  const auto m = ComputeMatchPairMetrics({0, -1}, {0, 1}, seg, cv::Mat());
  EXPECT_DOUBLE_EQ(Val(m.area_accuracy), 0.5);  // 2 of the 4 pixels of labels 0..2
}

TEST(MatchMetrics, RejectsBadInput) {
  EXPECT_THROW(ComputeMatchPairMetrics({}, {}, cv::Mat(), cv::Mat()), Error);
  try {
    ComputeMatchPairMetrics({0}, {0, 1}, cv::Mat(), cv::Mat(), "pred/s/forward/0000.json");
    FAIL() << "length mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pred/s/forward/0000.json"), std::string::npos);
  }
  EXPECT_THROW(ComputeMatchPairMetrics({0}, {0}, cv::Mat(2, 2, CV_8UC1, cv::Scalar(0)), cv::Mat()), Error);
}

TEST(MatchMetrics, SummaryIsTheMeanOfPairsWithSkips) {
  MatchPairMetrics a = ComputeMatchPairMetrics(kPred, kGt, Seg1(), Labels(1, 2, {0, 301}));
  a.scene = "s1";
  // Second pair: all right, no -1 in gt, max label 300 (not > 300).
  MatchPairMetrics b = ComputeMatchPairMetrics({0, 1}, {0, 1}, Labels(1, 2, {0, 1}), Labels(1, 2, {300, 0}));
  b.scene = "s2";
  MatchMetricsAccumulator acc;
  acc.Add(a);
  acc.Add(b);
  const MatchEvalResult r = acc.Result();
  EXPECT_EQ(r.overall.pairs, 2);
  EXPECT_DOUBLE_EQ(Val(r.overall.acc), 0.75);
  EXPECT_DOUBLE_EQ(Val(r.overall.valid_acc), (F32(1.0 / 3.0) + 1.0) / 2);
  EXPECT_DOUBLE_EQ(Val(r.overall.invalid_acc), 1.0);  // pair b skipped
  EXPECT_EQ(r.overall.pairs_invalid, 1);
  EXPECT_DOUBLE_EQ(Val(r.overall.acc_300), 0.5);      // only pair a is > 300
  EXPECT_EQ(r.overall.pairs_300, 1);
  EXPECT_DOUBLE_EQ(Val(r.overall.area_acc), (F32(5.0 / 12.0) + 1.0) / 2);
  EXPECT_EQ(r.overall.segments, 6);
  ASSERT_EQ(r.scenes.size(), 2u);
  EXPECT_DOUBLE_EQ(Val(r.scenes.at("s2").acc), 1.0);
  EXPECT_FALSE(r.scenes.at("s2").acc_300.has_value());  // no large pair: empty mean -> absent
  EXPECT_FALSE(r.scenes.at("s2").invalid_acc.has_value());

  const nlohmann::json j = r.ToJson(true);
  for (const char* k : {"acc", "valid_acc", "invalid_acc", "acc_300", "area_acc", "pairs", "scenes", "per_pair"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_TRUE(j["scenes"]["s2"]["acc_300"].is_null());
  EXPECT_EQ(j["per_pair"].size(), 2u);
  EXPECT_FALSE(r.ToJson().contains("per_pair"));
  EXPECT_NE(FormatMatchTable(r).find("ALL"), std::string::npos);

  // A pair without frame t+1's map makes acc_300 unknown for the set; without frame t's, area.
  acc.Add(ComputeMatchPairMetrics({0}, {0}, cv::Mat(), cv::Mat()));
  const MatchEvalResult r2 = acc.Result();
  EXPECT_FALSE(r2.overall.acc_300.has_value());
  EXPECT_FALSE(r2.overall.area_acc.has_value());
  EXPECT_DOUBLE_EQ(Val(r2.overall.acc), 2.5 / 3);
}

// The official per-pair values and summary (SuperGlueSoftMax.forward / SGM.eval) on the
// golden fake pairs.
TEST(MatchMetricsGolden, MatchesOfficialSegmatEvaluation) {
  ANIMERUN_REQUIRE_GOLDEN();
  std::ifstream in(test::GoldenDir() / "metrics" / "expected_metrics.json");
  const nlohmann::json expected = nlohmann::json::parse(in)["segmat"];
  const auto dir = test::GoldenDir() / "metrics";
  MatchMetricsAccumulator acc;
  for (const auto& p : expected["pairs"]) {
    SCOPED_TRACE(p["name"].get<std::string>());
    const std::vector<int> gt = io::ReadMatchJson(dir / p["gt"].get<std::string>());
    const std::vector<int> pred = io::ReadMatchJson(dir / p["pred"].get<std::string>(), static_cast<int>(gt.size()));
    const cv::Mat seg0 = io::ReadNpyLabels(dir / p["segment0"].get<std::string>());
    const MatchPairMetrics m = ComputeMatchPairMetrics(pred, gt, seg0, cv::Mat());
    const auto& e = p["per_pair"];
    EXPECT_EQ(m.num_segments, p["n0"].get<int>());
    EXPECT_EQ(m.num_gt_unmatched, p["n_gt_unmatched"].get<int>());
    // Per-pair values are float32 in both: equal exactly.
    EXPECT_DOUBLE_EQ(m.accuracy, e["accuracy"].get<double>());
    EXPECT_DOUBLE_EQ(Val(m.area_accuracy), e["area_accuracy"].get<double>());
    EXPECT_DOUBLE_EQ(Val(m.valid_accuracy), e["valid_accuracy"].get<double>());
    if (e["invalid_accuracy"].is_null()) EXPECT_FALSE(m.invalid_accuracy.has_value());
    else EXPECT_DOUBLE_EQ(Val(m.invalid_accuracy), e["invalid_accuracy"].get<double>());
    acc.Add(m);
  }
  const MatchMetrics s = acc.Result().overall;
  const auto& e = expected["summary"];
  test::ExpectParity("metrics_segmat", "Accuracy", std::abs(Val(s.acc) - e["Accuracy"].get<double>()), 1e-12);
  test::ExpectParity("metrics_segmat", "Valid Accuracy", std::abs(Val(s.valid_acc) - e["Valid Accuracy"].get<double>()),
                     1e-12);
  test::ExpectParity("metrics_segmat", "Invalid Accuracy",
                     std::abs(Val(s.invalid_acc) - e["Invalid Accuracy"].get<double>()), 1e-12);
  test::ExpectParity("metrics_segmat", "Area Accuracy",
                     std::abs(Val(s.area_acc) - e["Area Accuracy (mean over pairs)"].get<double>()), 1e-12);
  EXPECT_EQ(s.pairs, 3);
  EXPECT_EQ(s.pairs_invalid, 2);
}

}  // namespace
}  // namespace animerun::segments
