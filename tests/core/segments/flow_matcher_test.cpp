#include "core/segments/flow_matcher.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>

#include "core/data/animerun_dataset.h"
#include "core/data/synth.h"
#include "core/segments/match_metrics.h"
#include "core/segments/segment_stats.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::segments {
namespace {

// Left block id 0 (x < split), right block id 1, on an h x w map.
cv::Mat Halves(int h, int w, int split) {
  cv::Mat lab(h, w, CV_32SC1, cv::Scalar(1));
  lab.colRange(0, split).setTo(0);
  return lab;
}

cv::Mat ConstFlow(int h, int w, float u, float v) { return cv::Mat(h, w, CV_32FC2, cv::Scalar(u, v)); }

void ExpectValidResult(const MatchResult& r, size_t n0, int n1) {
  ASSERT_EQ(r.matches.size(), n0);
  ASSERT_EQ(r.confidence.size(), n0);
  for (size_t i = 0; i < n0; ++i) {
    EXPECT_GE(r.matches[i], -1);
    EXPECT_LT(r.matches[i], n1);
    EXPECT_GE(r.confidence[i], 0.0f);
    EXPECT_LE(r.confidence[i], 1.0f);
    if (r.matches[i] < 0) EXPECT_EQ(r.confidence[i], 0.0f);
  }
}

TEST(FlowMatcher, TranslationFollowsTheFlow) {
  // Frame t+1: ids swapped and the boundary moved right by 3 px; flow (+3, 0).
  const cv::Mat l0 = Halves(6, 12, 4);
  cv::Mat l1(6, 12, CV_32SC1, cv::Scalar(0));
  l1.colRange(0, 7).setTo(1);
  MatchInput in{cv::Mat(), cv::Mat(), l0, l1, ConstFlow(6, 12, 3.f, 0.f)};
  FlowMatcher m;
  const MatchResult r = m.Match(in);
  ExpectValidResult(r, 2, 2);
  EXPECT_EQ(r.matches, (std::vector<int>{1, 0}));
  EXPECT_FLOAT_EQ(r.confidence[0], 1.0f);
  // Segment 1 (x 4..11) lands on x 7..14: x 7..11 inside (5 columns), all on id 0.
  EXPECT_FLOAT_EQ(r.confidence[1], 1.0f);
}

TEST(FlowMatcher, ConfidenceIsWinningShareAndThresholdsGiveMinusOne) {
  // Segment 0 (4 columns) lands 3 columns on id 0 and 1 on id 1 of frame t+1 (no motion,
  // boundary moved left by one).
  const cv::Mat l0 = Halves(5, 10, 4);
  const cv::Mat l1 = Halves(5, 10, 3);
  MatchInput in{cv::Mat(), cv::Mat(), l0, l1, ConstFlow(5, 10, 0.f, 0.f)};
  FlowMatcherOptions o;
  MatchResult r = MatchByFlow(l0, l1, in.flow, {}, {}, o);
  EXPECT_EQ(r.matches[0], 0);
  EXPECT_FLOAT_EQ(r.confidence[0], 0.75f);
  o.min_share = 0.8;
  r = MatchByFlow(l0, l1, in.flow, {}, {}, o);
  EXPECT_EQ(r.matches[0], -1);
  EXPECT_EQ(r.confidence[0], 0.0f);
  EXPECT_EQ(r.matches[1], 1);  // 100 % share
  o = {};
  o.min_pixels = 21;  // segment 0 has 20 votes, segment 1 has 30
  r = MatchByFlow(l0, l1, in.flow, {}, {}, o);
  EXPECT_EQ(r.matches, (std::vector<int>{-1, 1}));
  // min_fraction: with u = 8, segment 0 (x 0..3) lands on x 8..11: x 8, 9 inside = 10
  // of its 20 px (0.5).
  o = {};
  o.min_fraction = 0.6;
  r = MatchByFlow(l0, l1, ConstFlow(5, 10, 8.f, 0.f), {}, {}, o);
  EXPECT_EQ(r.matches[0], -1);
  EXPECT_EQ(r.matches[1], -1);  // leaves the frame entirely: no vote at all
  o.min_fraction = 0.5;
  r = MatchByFlow(l0, l1, ConstFlow(5, 10, 8.f, 0.f), {}, {}, o);
  EXPECT_EQ(r.matches[0], 1);
}

TEST(FlowMatcher, TiesGoToTheSmallerIdAndRoundingIsFloorHalfUp) {
  // Segment 0 (2 columns) lands one column on id 1 and one on id 2.
  const cv::Mat l0 = Halves(3, 6, 2);
  const cv::Mat l1 = (cv::Mat_<int>(3, 6) << 0, 2, 1, 1, 1, 1, 0, 2, 1, 1, 1, 1, 0, 2, 1, 1, 1, 1);
  // u = 0.5 rounds to +1 (floor(x + 0.5 + 0.5)): column 0 -> 1 (id 2), column 1 -> 2 (id 1).
  const MatchResult r = MatchByFlow(l0, l1, ConstFlow(3, 6, 0.5f, 0.f), {}, {}, {});
  EXPECT_EQ(r.matches[0], 1);
  EXPECT_FLOAT_EQ(r.confidence[0], 0.5f);
  // u = 0.49 rounds to 0: column 0 -> id 0, column 1 -> id 2: tie, smaller id 0.
  const MatchResult r2 = MatchByFlow(l0, l1, ConstFlow(3, 6, 0.49f, 0.f), {}, {}, {});
  EXPECT_EQ(r2.matches[0], 0);
  // NaN flow votes nowhere.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const MatchResult r3 = MatchByFlow(l0, l1, ConstFlow(3, 6, nan, 0.f), {}, {}, {});
  EXPECT_EQ(r3.matches, (std::vector<int>{-1, -1}));
}

TEST(FlowMatcher, ColourTestAndLineRule) {
  // Frame t: white block id 0 (x 0..3) and red block id 1 (x 5..9), a black line at x 4
  // belonging to id 0. Frame t+1: the same, but a red occluder covers x 0.
  cv::Mat img0(4, 10, CV_8UC3, cv::Scalar(255, 255, 255)), img1;
  img0.colRange(5, 10).setTo(cv::Scalar(220, 30, 30));
  img0.col(4).setTo(cv::Scalar(0, 0, 0));
  img1 = img0.clone();
  img1.colRange(0, 1).setTo(cv::Scalar(220, 30, 30));
  cv::Mat l0 = Halves(4, 10, 5);
  cv::Mat l1 = l0.clone();
  l1.colRange(0, 1).setTo(2);  // the occluder is its own segment
  const cv::Mat zero = ConstFlow(4, 10, 0.f, 0.f);
  FlowMatcherOptions o;
  // Without the colour test, segment 0's non-line pixels vote 1 column for id 2, 3 for
  // id 0; its line column does not vote (the segment has non-line votes).
  o.colour_tolerance = -1;
  MatchResult r = MatchByFlow(l0, l1, zero, img0, img1, o);
  EXPECT_EQ(r.matches[0], 0);
  EXPECT_FLOAT_EQ(r.confidence[0], 0.75f);
  // With it, the occluded pixels (white onto red) drop out: 3 of 3 columns for id 0.
  o.colour_tolerance = 24;
  r = MatchByFlow(l0, l1, zero, img0, img1, o);
  EXPECT_EQ(r.matches[0], 0);
  EXPECT_FLOAT_EQ(r.confidence[0], 1.0f);
  // A segment drawn only as line votes with its line pixels.
  cv::Mat l0b = l0.clone();
  l0b.col(4).setTo(3);  // id 3: the line column alone (ids 2 unused)
  cv::Mat l1b = l1.clone();
  l1b.col(4).setTo(3);
  r = MatchByFlow(l0b, l1b, zero, img0, img1, o);
  ASSERT_EQ(r.matches.size(), 4u);
  EXPECT_EQ(r.matches[3], 3);
  EXPECT_EQ(r.matches[2], -1);  // no pixels
}

TEST(FlowMatcher, BadInputsThrowNamingTheProblem) {
  const cv::Mat l0 = Halves(4, 6, 3);
  FlowMatcher m;
  MatchInput in{cv::Mat(), cv::Mat(), l0, l0, cv::Mat()};
  try {
    m.Match(in);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no flow"), std::string::npos) << e.what();
  }
  in.flow = ConstFlow(5, 6, 0.f, 0.f);
  EXPECT_THROW(m.Match(in), Error);  // flow size
  in.flow = cv::Mat(4, 6, CV_32FC1, cv::Scalar(0));
  EXPECT_THROW(m.Match(in), Error);  // flow type
  in.flow = ConstFlow(4, 6, 0.f, 0.f);
  cv::Mat neg = l0.clone();
  neg.at<int>(0, 0) = -2;
  in.labels1 = neg;
  try {
    m.Match(in);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("negative"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t+1"), std::string::npos) << e.what();
  }
  in.labels1 = Halves(4, 7, 3);
  try {
    m.Match(in);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("differ in size"), std::string::npos) << e.what();
  }
  in.labels1 = cv::Mat(4, 6, CV_16UC1, cv::Scalar(0));
  EXPECT_THROW(m.Match(in), Error);
  in.labels1 = l0;
  in.image0 = cv::Mat(4, 6, CV_8UC3, cv::Scalar(1, 2, 3));
  in.image1 = cv::Mat(3, 6, CV_8UC3, cv::Scalar(1, 2, 3));
  EXPECT_THROW(m.Match(in), Error);  // image size
  FlowMatcherOptions bad;
  bad.min_share = 1.5;
  EXPECT_THROW(FlowMatcher{bad}, Error);
  bad = {};
  bad.colour_tolerance = -2;
  EXPECT_THROW(bad.Check(), Error);
}

// On generated pairs (whose ground truth is defined by flow majority over visible pixels
// and same-region targets), flow voting with the exact flows reproduces the ground truth
// almost entirely; without the backward flow (no occlusion test) or without images (no
// colour test) it is lower, by amounts measured here.
TEST(FlowMatcher, NearGroundTruthOnSyntheticPairs) {
  const auto root = test::ScratchDir("synth");
  data::SynthOptions so;
  so.scenes = 2;
  so.frames = 4;
  so.width = 320;
  so.height = 180;
  so.color_passes = 0;
  data::GenerateSynthDataset(root, so);
  const auto ds = data::AnimeRunDataset::Open(root);
  const auto pairs = ds.AllPairs();
  ASSERT_EQ(pairs.size(), 6u);
  FlowMatcher m;
  double acc = 0, valid = 0, invalid = 0, acc_fwd = 0, acc_plain = 0;
  int64_t segs = 0;
  for (const auto& p : pairs) {
    const data::PairData d = data::LoadPair(p);
    const MatchInput in{d.image1, d.image2, d.segment1, d.segment2, d.flow_forward};
    const MatchResult r = m.Match(in, d.flow_backward);
    ExpectValidResult(r, d.match_forward.size(), CountSegments(d.segment2));
    const auto pm = ComputeMatchPairMetrics(r.matches, d.match_forward, d.segment1, d.segment2);
    acc += pm.accuracy;
    valid += pm.valid_accuracy.value_or(0.0);
    invalid += pm.invalid_accuracy.value_or(1.0);
    acc_fwd += ComputeMatchPairMetrics(m.Match(in).matches, d.match_forward, d.segment1, d.segment2).accuracy;
    const MatchResult rp = MatchByFlow(d.segment1, d.segment2, d.flow_forward, {}, {}, {});
    acc_plain += ComputeMatchPairMetrics(rp.matches, d.match_forward, d.segment1, d.segment2).accuracy;
    segs += pm.num_segments;
  }
  const double np = static_cast<double>(pairs.size());
  acc /= np, valid /= np, invalid /= np, acc_fwd /= np, acc_plain /= np;
  std::printf("[ measured ] flow matcher, exact flows, %zu synthetic pairs (%lld segments): acc %.4f valid %.4f "
              "invalid %.4f; forward flow only %.4f; no images %.4f\n",
              pairs.size(), static_cast<long long>(segs), acc, valid, invalid, acc_fwd, acc_plain);
  EXPECT_GT(acc, 0.98);
  EXPECT_GT(valid, 0.98);
  EXPECT_GT(invalid, 0.9);
  EXPECT_GT(acc_fwd, 0.95);
  EXPECT_GT(acc_plain, 0.85);
  EXPECT_GT(acc, acc_fwd);
}

TEST(FlowMatcher, BackwardFlowMarksOccludedPixelsAndColourRejectsVanished) {
  // Segment 1 (x 6..9) is covered in frame t+1 by segment 2, which moved left by 4 px from
  // x 10..13: forward flow of segment 1 is 0, backward flow at x 6..9 is +4 (inconsistent).
  cv::Mat l0(3, 14, CV_32SC1, cv::Scalar(0)), l1(3, 14, CV_32SC1, cv::Scalar(0));
  l0.colRange(6, 10).setTo(1);
  l0.colRange(10, 14).setTo(2);
  l1.colRange(6, 10).setTo(2);
  cv::Mat fwd = ConstFlow(3, 14, 0.f, 0.f), bwd = ConstFlow(3, 14, 0.f, 0.f);
  fwd.colRange(10, 14).setTo(cv::Scalar(-4, 0));
  bwd.colRange(6, 10).setTo(cv::Scalar(4, 0));
  EXPECT_EQ(MatchByFlow(l0, l1, fwd, {}, {}, {}).matches, (std::vector<int>{0, 2, 2}));
  EXPECT_EQ(MatchByFlow(l0, l1, fwd, {}, {}, {}, bwd).matches, (std::vector<int>{0, -1, 2}));
  FlowMatcher m;
  EXPECT_EQ(m.Match({cv::Mat(), cv::Mat(), l0, l1, fwd}, bwd).matches, (std::vector<int>{0, -1, 2}));
  EXPECT_THROW(MatchByFlow(l0, l1, fwd, {}, {}, {}, ConstFlow(2, 14, 0.f, 0.f)), Error);
  // The same with images: segment 1 is red, segment 2 green; without the backward flow the
  // segment-level colour test rejects red -> green.
  cv::Mat i0(3, 14, CV_8UC3, cv::Scalar(255, 255, 255)), i1 = i0.clone();
  i0.colRange(6, 10).setTo(cv::Scalar(220, 30, 30));
  i0.colRange(10, 14).setTo(cv::Scalar(30, 200, 30));
  i1.colRange(6, 10).setTo(cv::Scalar(30, 200, 30));
  EXPECT_EQ(MatchByFlow(l0, l1, fwd, i0, i1, {}).matches, (std::vector<int>{0, -1, 2}));
  FlowMatcherOptions off;
  off.segment_colour_tolerance = -1;
  EXPECT_EQ(MatchByFlow(l0, l1, fwd, i0, i1, off).matches, (std::vector<int>{0, 2, 2}));
}

}  // namespace
}  // namespace animerun::segments
