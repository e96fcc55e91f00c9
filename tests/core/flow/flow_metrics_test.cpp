#include "core/flow/flow_metrics.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "core/io/flow_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "parity.h"
#include "test_paths.h"

namespace animerun::flow {
namespace {

cv::Mat Flow(int h, int w, std::initializer_list<float> uv) {
  cv::Mat f(h, w, CV_32FC2);
  std::copy(uv.begin(), uv.end(), f.ptr<float>());
  return f;
}

cv::Mat Mask(int h, int w, std::initializer_list<uint8_t> v) {
  cv::Mat m(h, w, CV_8UC1);
  std::copy(v.begin(), v.end(), m.ptr<uint8_t>());
  return m;
}

double Val(const std::optional<double>& v) {
  EXPECT_TRUE(v.has_value());
  return v.value_or(std::numeric_limits<double>::quiet_NaN());
}

// A 2x2 pair with one pixel per magnitude bucket edge and known EPEs 5, 0.5, 2, 3:
//   gt   (0,0)  (30,40)      pred  (3,4)   (30,40.5)
//        (60,80) (6,8)             (58,80) (6,5)
//   |gt| = 0, 50 (in s10-50: <= 50), 100, 10 (in s<10: <= 10)
struct TinyPair {
  cv::Mat gt = Flow(2, 2, {0, 0, 30, 40, 60, 80, 6, 8});
  cv::Mat pred = Flow(2, 2, {3, 4, 30, 40.5f, 58, 80, 6, 5});
  cv::Mat unmatched = Mask(2, 2, {0, 1, 1, 2});  // occ, non-occ, non-occ, neither (2)
  cv::Mat line = Mask(2, 2, {0, 3, 0, 1});       // line, flat, line, flat
};

TEST(FlowMetrics, TinyPairEveryBucket) {
  TinyPair t;
  FlowMetricsAccumulator acc;
  acc.Add("a", t.pred, t.gt, t.unmatched, t.line);
  const FlowMetrics m = acc.Result().overall;
  EXPECT_EQ(m.pairs, 1);
  EXPECT_EQ(m.pixels, 4);
  EXPECT_DOUBLE_EQ(Val(m.Get(FlowBucket::kAll)), (5 + 0.5 + 2 + 3) / 4.0);
  EXPECT_DOUBLE_EQ(Val(m.Get(FlowBucket::kOcc)), 5.0);
  EXPECT_DOUBLE_EQ(Val(m.Get(FlowBucket::kNonOcc)), (0.5 + 2) / 2);
  EXPECT_DOUBLE_EQ(Val(m.Get(FlowBucket::kLine)), (5 + 2) / 2.0);
  EXPECT_DOUBLE_EQ(Val(m.Get(FlowBucket::kFlat)), (0.5 + 3) / 2);
  EXPECT_DOUBLE_EQ(Val(m.Get(FlowBucket::kS0_10)), (5 + 3) / 2.0);
  EXPECT_DOUBLE_EQ(Val(m.Get(FlowBucket::kS10_50)), 0.5);
  EXPECT_DOUBLE_EQ(Val(m.Get(FlowBucket::kS50Plus)), 2.0);
  // Strict thresholds: epe 3 is not < 3, epe 5 is not < 5.
  EXPECT_DOUBLE_EQ(Val(m.px1), 0.25);
  EXPECT_DOUBLE_EQ(Val(m.px3), 0.5);
  EXPECT_DOUBLE_EQ(Val(m.px5), 0.75);
  EXPECT_EQ(m.bucket_pixels[static_cast<int>(FlowBucket::kOcc)], 1);
  EXPECT_EQ(m.bucket_pixels[static_cast<int>(FlowBucket::kNonOcc)], 2);
}

TEST(FlowMetrics, PoolsPixelsAcrossPairsAndKeepsScenes) {
  TinyPair t;
  FlowMetricsAccumulator acc;
  acc.Add("a", t.pred, t.gt, t.unmatched, t.line);
  // Scene b: 1x3, no masks, EPEs 1, 0, 2.
  acc.Add("b", Flow(1, 3, {1, 0, 0, 0, 0, 2}), Flow(1, 3, {0, 0, 0, 0, 0, 0}), cv::Mat(), cv::Mat());
  const FlowEvalResult r = acc.Result();
  // Pooled over 7 pixels, not the mean of the two per-pair means (2.625 and 1).
  EXPECT_DOUBLE_EQ(Val(r.overall.Get(FlowBucket::kAll)), (10.5 + 3.0) / 7.0);
  EXPECT_DOUBLE_EQ(Val(r.overall.px1), 2.0 / 7.0);
  EXPECT_DOUBLE_EQ(Val(r.overall.Get(FlowBucket::kS0_10)), (5 + 3 + 1 + 0 + 2) / 5.0);
  // A mask missing for one pair makes its buckets absent overall, but not for scene a.
  EXPECT_FALSE(r.overall.Get(FlowBucket::kOcc).has_value());
  EXPECT_FALSE(r.overall.Get(FlowBucket::kFlat).has_value());
  ASSERT_EQ(r.scenes.size(), 2u);
  EXPECT_DOUBLE_EQ(Val(r.scenes.at("a").Get(FlowBucket::kOcc)), 5.0);
  EXPECT_FALSE(r.scenes.at("b").Get(FlowBucket::kLine).has_value());
  EXPECT_DOUBLE_EQ(Val(r.scenes.at("b").Get(FlowBucket::kAll)), 1.0);
  EXPECT_EQ(r.scenes.at("b").pairs, 1);
  EXPECT_EQ(r.overall.pairs, 2);

  const nlohmann::json j = r.ToJson();
  for (const char* k : {"epe", "epe_occ", "epe_nonocc", "epe_line", "epe_flat", "epe_s0_10", "epe_s10_50",
                        "epe_s50plus", "px1", "px3", "px5", "pairs", "pixels", "scenes"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_TRUE(j["epe_occ"].is_null());  // null, never NaN
  EXPECT_DOUBLE_EQ(j["scenes"]["a"]["epe_occ"].get<double>(), 5.0);
  EXPECT_EQ(j["pixels"].get<int64_t>(), 7);
  // Empty bucket (no |gt| > 50 in scene b) is null too.
  EXPECT_TRUE(j["scenes"]["b"]["epe_s50plus"].is_null());
  EXPECT_NE(FormatFlowTable(r).find("ALL"), std::string::npos);
}

TEST(FlowMetrics, EmptyAccumulatorHasNoValues) {
  const FlowEvalResult r = FlowMetricsAccumulator().Result();
  EXPECT_FALSE(r.overall.Get(FlowBucket::kAll).has_value());
  EXPECT_FALSE(r.overall.px1.has_value());
  EXPECT_TRUE(r.ToJson()["epe"].is_null());
}

TEST(FlowMetrics, RefusesNonFiniteAndMismatchedInput) {
  TinyPair t;
  FlowMetricsAccumulator acc;
  cv::Mat bad = t.pred.clone();
  bad.at<cv::Vec2f>(0, 1)[0] = std::numeric_limits<float>::quiet_NaN();
  bad.at<cv::Vec2f>(1, 1)[1] = std::numeric_limits<float>::infinity();
  try {
    acc.Add("a", bad, t.gt, t.unmatched, t.line, "pred/a/forward/0000.flo");
    FAIL() << "NaN accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("pred/a/forward/0000.flo"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2 pixel"), std::string::npos) << msg;
  }
  EXPECT_THROW(acc.Add("a", t.pred, bad, t.unmatched, t.line), Error);
  EXPECT_THROW(acc.Add("a", Flow(1, 2, {0, 0, 0, 0}), t.gt, t.unmatched, t.line), Error);
  EXPECT_THROW(acc.Add("a", t.pred, t.gt, Mask(1, 2, {0, 0}), t.line), Error);
  EXPECT_THROW(acc.Add("a", t.pred, t.gt, t.unmatched, cv::Mat(2, 2, CV_32FC1, cv::Scalar(0))), Error);
  EXPECT_THROW(acc.Add("a", cv::Mat(), t.gt, cv::Mat(), cv::Mat()), Error);
  // Nothing was counted by the refused calls.
  EXPECT_EQ(acc.pairs(), 0);
}

// The official numbers (validate_anime on the golden fake tree), fed straight through the
// accumulator with the io readers.
TEST(FlowMetricsGolden, MatchesOfficialValidateAnime) {
  ANIMERUN_REQUIRE_GOLDEN();
  const auto root = test::GoldenDir() / "metrics" / "flow" / "AnimeRun_v2";
  const std::pair<const char*, const char*> pairs[] = {{"scene_a", "0000"}, {"scene_a", "0001"}, {"scene_b", "0000"}};
  FlowMetricsAccumulator acc;
  for (const auto& [scene, name] : pairs) {
    const std::string n = name;
    acc.Add(scene, io::ReadFlo(root / "pred" / scene / "forward" / (n + ".flo")),
            io::ReadFlo(root / "test" / "Flow" / scene / "forward" / (n + ".flo")),
            io::ReadNpyMask(root / "test" / "UnmatchedForward" / scene / (n + ".npy")),
            io::ReadNpyMask(root / "test" / "LineArea" / scene / (n + ".npy")));
  }
  const FlowMetrics m = acc.Result().overall;

  std::ifstream in(test::GoldenDir() / "metrics" / "expected_metrics.json");
  const nlohmann::json expected = nlohmann::json::parse(in)["flow"]["metrics"];
  const std::pair<const char*, FlowBucket> keys[] = {
      {"epe", FlowBucket::kAll},      {"occ", FlowBucket::kOcc},       {"non_occ", FlowBucket::kNonOcc},
      {"line", FlowBucket::kLine},    {"flat", FlowBucket::kFlat},     {"s<10", FlowBucket::kS0_10},
      {"s10-50", FlowBucket::kS10_50}, {"s>50", FlowBucket::kS50Plus}};
  for (const auto& [key, bucket] : keys) {
    SCOPED_TRACE(key);
    const double want = expected[key]["value_float64_mean"].get<double>();
    test::ExpectParity("metrics_flow", key, std::abs(Val(m.Get(bucket)) - want), 1e-9 * want);
    EXPECT_EQ(m.bucket_pixels[static_cast<int>(bucket)], expected[key]["num_pixels"].get<int64_t>());
  }
  test::ExpectParity("metrics_flow", "px1", std::abs(Val(m.px1) - expected["px1"]["value"].get<double>()), 1e-12);
  test::ExpectParity("metrics_flow", "px3", std::abs(Val(m.px3) - expected["px3"]["value"].get<double>()), 1e-12);
  test::ExpectParity("metrics_flow", "px5", std::abs(Val(m.px5) - expected["px5"]["value"].get<double>()), 1e-12);
  EXPECT_EQ(m.pixels, 6720);
  EXPECT_EQ(m.pairs, 3);
}

}  // namespace
}  // namespace animerun::flow
