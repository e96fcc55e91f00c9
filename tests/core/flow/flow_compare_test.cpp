#include "core/flow/flow_compare.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/data/synth.h"
#include "core/flow/flow_eval.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::flow {
namespace {

cv::Mat ConstantFlow(int w, int h, float u, float v) { return cv::Mat(h, w, CV_32FC2, cv::Scalar(u, v)); }

TEST(FlowCompare, EndPointErrorPerPixel) {
  cv::Mat gt = ConstantFlow(4, 3, 1.f, -2.f);
  cv::Mat pred = gt.clone();
  pred.at<cv::Vec2f>(1, 2) += cv::Vec2f(3.f, 4.f);
  pred.at<cv::Vec2f>(0, 0)[1] = std::numeric_limits<float>::infinity();
  const cv::Mat e = EndPointError(pred, gt);
  ASSERT_EQ(e.type(), CV_32FC1);
  ASSERT_EQ(e.size(), gt.size());
  EXPECT_FLOAT_EQ(e.at<float>(1, 2), 5.f);
  EXPECT_FLOAT_EQ(e.at<float>(2, 3), 0.f);
  EXPECT_TRUE(std::isnan(e.at<float>(0, 0)));
  EXPECT_THROW(EndPointError(ConstantFlow(4, 2, 0, 0), gt), Error);
  EXPECT_THROW(EndPointError(cv::Mat(3, 4, CV_32FC1, cv::Scalar(0)), cv::Mat(3, 4, CV_32FC1, cv::Scalar(0))), Error);
}

TEST(FlowCompare, MaxFlowMagnitudeSkipsNonFinite) {
  cv::Mat f = ConstantFlow(3, 2, 1.f, 0.f);
  f.at<cv::Vec2f>(1, 1) = cv::Vec2f(-6.f, 8.f);
  f.at<cv::Vec2f>(0, 2) = cv::Vec2f(std::numeric_limits<float>::quiet_NaN(), 100.f);
  EXPECT_DOUBLE_EQ(MaxFlowMagnitude(f), 10.0);
  EXPECT_DOUBLE_EQ(MaxFlowMagnitude(cv::Mat()), 0.0);
  EXPECT_THROW(MaxFlowMagnitude(cv::Mat(2, 2, CV_32FC1)), Error);
}

TEST(FlowCompare, ScaleFromPercentileSharedAndNice) {
  // 100 pixels with EPE 0..99 in map a, map b all 3 px: pooled 99th percentile of 200
  // values is 98 -> rounded up to 100.
  cv::Mat a(10, 10, CV_32FC1), b(10, 10, CV_32FC1, cv::Scalar(3));
  for (int i = 0; i < 100; ++i) a.at<float>(i / 10, i % 10) = static_cast<float>(i);
  a.at<float>(0, 0) = std::numeric_limits<float>::quiet_NaN();  // ignored
  EpeScale s = ChooseEpeScale({a, b});
  EXPECT_DOUBLE_EQ(s.max, 100.0);
  ASSERT_EQ(s.ticks.size(), 5u);
  EXPECT_DOUBLE_EQ(s.ticks.front(), 0.0);
  EXPECT_DOUBLE_EQ(s.ticks[1], 25.0);
  EXPECT_DOUBLE_EQ(s.ticks.back(), 100.0);
  // b alone: 3 -> 5; tiny errors keep a 1 px floor; a fixed top is taken as given.
  EXPECT_DOUBLE_EQ(ChooseEpeScale({b}).max, 5.0);
  EXPECT_DOUBLE_EQ(ChooseEpeScale({cv::Mat(2, 2, CV_32FC1, cv::Scalar(0.01))}).max, 1.0);
  EXPECT_DOUBLE_EQ(ChooseEpeScale({cv::Mat(2, 2, CV_32FC1, cv::Scalar(13))}).max, 20.0);
  EXPECT_DOUBLE_EQ(ChooseEpeScale({}).max, 1.0);
  EpeScaleOptions o;
  o.max_epe = 7.5;
  o.ticks = 4;
  s = ChooseEpeScale({a}, o);
  EXPECT_DOUBLE_EQ(s.max, 7.5);
  EXPECT_DOUBLE_EQ(s.ticks[2], 5.0);
  o.ticks = 1;
  EXPECT_THROW(ChooseEpeScale({a}, o), Error);
  o = {};
  o.percentile = 0;
  EXPECT_THROW(ChooseEpeScale({a}, o), Error);
}

TEST(FlowCompare, HeatmapColoursFollowTheScale) {
  cv::Mat e(1, 5, CV_32FC1);
  e.at<float>(0, 0) = 0.f;
  e.at<float>(0, 1) = 5.f;
  e.at<float>(0, 2) = 10.f;
  e.at<float>(0, 3) = 50.f;  // beyond the top: saturates
  e.at<float>(0, 4) = std::numeric_limits<float>::quiet_NaN();
  EpeScale s;
  s.max = 10.0;
  const cv::Mat c = EpeToColor(e, s);
  ASSERT_EQ(c.type(), CV_8UC3);
  auto lum = [&](int x) {
    const cv::Vec3b p = c.at<cv::Vec3b>(0, x);
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
  };
  EXPECT_LT(lum(0), 10);            // inferno starts near black
  EXPECT_LT(lum(0), lum(1));
  EXPECT_LT(lum(1), lum(2));
  EXPECT_EQ(c.at<cv::Vec3b>(0, 2), c.at<cv::Vec3b>(0, 3));
  EXPECT_GT(c.at<cv::Vec3b>(0, 2)[0], 200);  // top is yellow: red and green high, blue low
  EXPECT_GT(c.at<cv::Vec3b>(0, 2)[1], 200);
  EXPECT_LT(c.at<cv::Vec3b>(0, 2)[2], 200);
  EXPECT_EQ(c.at<cv::Vec3b>(0, 4), cv::Vec3b(128, 128, 128));
  // The bar uses the same colours: bottom = 0 px, top = max.
  const cv::Mat bar = EpeColorBar(64, 4, true);
  ASSERT_EQ(bar.size(), cv::Size(4, 64));
  EXPECT_EQ(bar.at<cv::Vec3b>(63, 0), c.at<cv::Vec3b>(0, 0));
  EXPECT_EQ(bar.at<cv::Vec3b>(0, 3), c.at<cv::Vec3b>(0, 2));
  const cv::Mat hbar = EpeColorBar(64, 4, false);
  ASSERT_EQ(hbar.size(), cv::Size(64, 4));
  EXPECT_EQ(hbar.at<cv::Vec3b>(0, 63), c.at<cv::Vec3b>(0, 2));
  s.max = 0;
  EXPECT_THROW(EpeToColor(e, s), Error);
}

TEST(FlowCompare, HeatmapWithLegendKeepsTheHeatmap) {
  cv::Mat e(60, 80, CV_32FC1);
  for (int y = 0; y < e.rows; ++y)
    for (int x = 0; x < e.cols; ++x) e.at<float>(y, x) = static_cast<float>(x) / 8.f;
  const EpeScale s = ChooseEpeScale({e});
  const cv::Mat img = EpeHeatmapWithLegend(e, s);
  ASSERT_EQ(img.rows, 60);
  ASSERT_GT(img.cols, 80);
  EXPECT_EQ(cv::norm(img(cv::Rect(0, 0, 80, 60)), EpeToColor(e, s), cv::NORM_INF), 0.0);
  // The legend area has the bar's colours and dark tick text besides white.
  const cv::Mat legend = img(cv::Rect(80, 0, img.cols - 80, 60));
  EXPECT_GT(cv::countNonZero(legend.reshape(1) < 40), 10);
}

// The per-pair metrics must equal what eval-flow reports for a dataset of that one pair.
TEST(FlowCompare, PairMetricsEqualEvalFlow) {
  const auto root = test::ScratchDir("data");
  data::SynthOptions so;
  so.scenes = 1;
  so.frames = 2;
  so.width = 96;
  so.height = 64;
  so.color_passes = 0;
  data::GenerateSynthDataset(root, so);
  const auto ds = data::AnimeRunDataset::Open(root);
  ASSERT_EQ(ds.AllPairs().size(), 1u);
  // A prediction with errors of every size: gt plus a ramp, so every bucket fills.
  auto predict = [](const data::FramePair&, const data::PairData& d) {
    cv::Mat p = d.flow_forward.clone();
    for (int y = 0; y < p.rows; ++y)
      for (int x = 0; x < p.cols; ++x) p.at<cv::Vec2f>(y, x) += cv::Vec2f(0.05f * x, -0.03f * y + 0.7f);
    return p;
  };
  const FlowMetrics want = EvaluateFlow(ds, predict).overall;
  const data::PairData pair = data::LoadPair(ds.AllPairs()[0]);
  const cv::Mat pred = predict(ds.AllPairs()[0], pair);
  const FlowMetrics got = ScorePairFlow(pair, pred);
  for (int b = 0; b < kNumFlowBuckets; ++b) {
    ASSERT_EQ(got.epe[b].has_value(), want.epe[b].has_value()) << kFlowBucketNames[b];
    if (got.epe[b]) EXPECT_EQ(*got.epe[b], *want.epe[b]) << kFlowBucketNames[b];
    EXPECT_EQ(got.bucket_pixels[b], want.bucket_pixels[b]);
  }
  EXPECT_EQ(got.px1, want.px1);
  EXPECT_EQ(got.px3, want.px3);
  EXPECT_EQ(got.px5, want.px5);
  ASSERT_TRUE(got.Get(FlowBucket::kAll));
  EXPECT_GT(*got.Get(FlowBucket::kAll), 0.5);
  // The mean of the EPE map is the overall EPE.
  EXPECT_NEAR(cv::mean(EndPointError(pred, pair.flow_forward))[0], *got.Get(FlowBucket::kAll), 1e-5);

  const auto rows = MetricRows(got);
  ASSERT_EQ(rows.size(), 11u);
  EXPECT_EQ(rows[0].name, "epe");
  EXPECT_EQ(rows[7].name, "epe_s50plus");
  EXPECT_EQ(rows[10].name, "px5");
  EXPECT_EQ(rows[8].value, want.px1);
  EXPECT_EQ(FormatMetric(1.23456), "1.2346");
  EXPECT_EQ(FormatMetric(std::nullopt), "-");

  // No masks: their buckets are absent; no ground truth: a clear error.
  const FlowMetrics bare = ScorePairFlow(pred, pair.flow_forward, cv::Mat(), cv::Mat());
  EXPECT_FALSE(bare.Get(FlowBucket::kOcc));
  EXPECT_FALSE(bare.Get(FlowBucket::kLine));
  EXPECT_EQ(bare.Get(FlowBucket::kAll), got.Get(FlowBucket::kAll));
  data::PairData no_gt = pair;
  no_gt.flow_forward = cv::Mat();
  EXPECT_THROW(ScorePairFlow(no_gt, pred, "p"), Error);
  cv::Mat bad = pred.clone();
  bad.at<cv::Vec2f>(3, 3)[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(ScorePairFlow(pair, bad, "p"), Error);
}

}  // namespace
}  // namespace animerun::flow
