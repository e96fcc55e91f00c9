#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/util/error.h"
#include "core/view/overlay.h"
#include "core/view/segment_view.h"

namespace animerun::view {
namespace {

// A 32x24 pair: grey gradient frames, two segments split at x = 16, a flow that moves
// right by 3 px on the left half, an occluded band (rows 0..3) and a line column (x = 10).
data::PairData OverlayPair() {
  data::PairData p;
  p.image1 = cv::Mat(24, 32, CV_8UC3);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 32; ++x) p.image1.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 4, y * 5, 100);
  p.image2 = p.image1.clone();
  p.segment1 = cv::Mat(24, 32, CV_32SC1, cv::Scalar(0));
  p.segment1(cv::Rect(16, 0, 16, 24)).setTo(1);
  p.segment2 = p.segment1.clone();
  p.flow_forward = cv::Mat(24, 32, CV_32FC2, cv::Scalar(0, 0));
  p.flow_forward(cv::Rect(0, 0, 16, 24)).setTo(cv::Scalar(3, 0));
  p.flow_backward = cv::Mat(24, 32, CV_32FC2, cv::Scalar(-1, 2));
  p.unmatched_forward = cv::Mat(24, 32, CV_8UC1, cv::Scalar(1));
  p.unmatched_forward(cv::Rect(0, 0, 32, 4)).setTo(0);
  p.line_area = cv::Mat(24, 32, CV_8UC1, cv::Scalar(1));
  p.line_area.col(10).setTo(0);
  p.match_forward = {1, 0};
  p.match_backward = {1, 0};
  return p;
}

int ChangedPixels(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  cv::Mat grey;
  cv::transform(diff, grey, cv::Matx13f(1, 1, 1));
  return cv::countNonZero(grey);
}

TEST(Overlay, TintBlendsOnlyMaskedPixels) {
  cv::Mat img(2, 2, CV_8UC3, cv::Scalar(100, 0, 200));
  cv::Mat mask(2, 2, CV_8UC1, cv::Scalar(0));
  mask.at<uint8_t>(0, 1) = 1;
  TintMask(img, mask, cv::Vec3b(200, 255, 0), 0.5);
  EXPECT_EQ(img.at<cv::Vec3b>(0, 0), cv::Vec3b(100, 0, 200));
  EXPECT_EQ(img.at<cv::Vec3b>(0, 1), cv::Vec3b(150, 128, 100));
  TintMask(img, mask, cv::Vec3b(1, 2, 3), 1.0);
  EXPECT_EQ(img.at<cv::Vec3b>(0, 1), cv::Vec3b(1, 2, 3));
  EXPECT_THROW(TintMask(img, cv::Mat(3, 2, CV_8UC1, cv::Scalar(1)), cv::Vec3b(), 0.5), Error);
  EXPECT_THROW(TintMask(img, mask, cv::Vec3b(), 1.5), Error);
  TintMask(img, cv::Mat(), cv::Vec3b(), 0.5);  // no mask: nothing to do
}

TEST(Overlay, MaskPolarityFollowsTheOfficialEvaluation) {
  const data::PairData p = OverlayPair();
  const cv::Mat occ = OcclusionMask(p.unmatched_forward);
  EXPECT_EQ(cv::countNonZero(occ), 32 * 4);
  EXPECT_EQ(occ.at<uint8_t>(0, 0), 255);
  EXPECT_EQ(occ.at<uint8_t>(10, 0), 0);
  const cv::Mat line = LineMask(p.line_area);
  EXPECT_EQ(cv::countNonZero(line), 24);
  EXPECT_EQ(line.at<uint8_t>(5, 10), 255);
  EXPECT_TRUE(OcclusionMask(cv::Mat()).empty());
}

TEST(Overlay, NoOverlayShowsTheFrame) {
  const data::PairData p = OverlayPair();
  EXPECT_EQ(ChangedPixels(ComposeFrameView(p, 0, {}), p.image1), 0);
  EXPECT_EQ(ChangedPixels(ComposeFrameView(p, 1, {}), p.image2), 0);
}

TEST(Overlay, OcclusionTintsOccludedPixelsOfFrameTOnly) {
  const data::PairData p = OverlayPair();
  OverlayOptions o;
  o.occlusion = true;
  const cv::Mat v = ComposeFrameView(p, 0, o);
  cv::Mat changed;
  cv::absdiff(v, p.image1, changed);
  for (int y = 0; y < 24; ++y) {
    const bool diff = cv::norm(changed.row(y)) > 0;
    EXPECT_EQ(diff, y < 4) << "row " << y;
  }
  EXPECT_EQ(ChangedPixels(ComposeFrameView(p, 1, o), p.image2), 0);  // masks belong to frame t
}

TEST(Overlay, LinesAndBoundariesMarkTheirPixels) {
  const data::PairData p = OverlayPair();
  OverlayOptions o;
  o.lines = true;
  EXPECT_EQ(ChangedPixels(ComposeFrameView(p, 0, o), p.image1), 24);
  o = OverlayOptions();
  o.boundaries = true;
  const cv::Mat v = ComposeFrameView(p, 1, o);
  EXPECT_EQ(ChangedPixels(v, p.image2), 2 * 24);  // columns 15 and 16
  EXPECT_EQ(v.at<cv::Vec3b>(3, 15), kBoundaryColor);
  EXPECT_EQ(v.at<cv::Vec3b>(3, 16), kBoundaryColor);
}

TEST(Overlay, HighlightChangesOnlyTheSegment) {
  const data::PairData p = OverlayPair();
  const cv::Mat v = ComposeFrameView(p, 0, {}, 1);
  cv::Mat diff;
  cv::absdiff(v, p.image1, diff);
  EXPECT_EQ(cv::norm(diff(cv::Rect(0, 0, 16, 24))), 0.0);
  EXPECT_GT(ChangedPixels(v(cv::Rect(16, 0, 16, 24)), p.image1(cv::Rect(16, 0, 16, 24))), 16 * 24 - 1);
  EXPECT_EQ(v.at<cv::Vec3b>(0, 16), kHighlightEdge);  // the outline
}

TEST(Overlay, FlowColorAndArrowsUseTheFramesFlow) {
  const data::PairData p = OverlayPair();
  OverlayOptions o;
  o.flow_color = true;
  o.flow_opacity = 1.0;
  const cv::Mat v0 = ComposeFrameView(p, 0, o);
  // Zero flow is white in the Middlebury wheel; the moving half is coloured.
  EXPECT_EQ(v0.at<cv::Vec3b>(5, 25), cv::Vec3b(255, 255, 255));
  EXPECT_NE(v0.at<cv::Vec3b>(5, 5), cv::Vec3b(255, 255, 255));
  const cv::Mat v1 = ComposeFrameView(p, 1, o);  // uniform backward flow: one colour
  EXPECT_EQ(v1.at<cv::Vec3b>(0, 0), v1.at<cv::Vec3b>(20, 30));
  EXPECT_NE(v1.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));

  o = OverlayOptions();
  o.flow_arrows = true;
  o.arrow_step = 4;
  const cv::Mat a = ComposeFrameView(p, 0, o);
  EXPECT_GT(ChangedPixels(a(cv::Rect(0, 0, 14, 24)), p.image1(cv::Rect(0, 0, 14, 24))), 0);
  // No motion on the right half: arrows shorter than the minimum are skipped.
  EXPECT_EQ(ChangedPixels(a(cv::Rect(20, 0, 12, 24)), p.image1(cv::Rect(20, 0, 12, 24))), 0);
}

TEST(Overlay, MissingImageStartsFromGrey) {
  data::PairData p = OverlayPair();
  p.image2.release();
  const cv::Mat v = ComposeFrameView(p, 1, {});
  EXPECT_EQ(v.size(), cv::Size(32, 24));
  EXPECT_EQ(v.at<cv::Vec3b>(0, 0), cv::Vec3b(128, 128, 128));
  EXPECT_THROW(ComposeFrameView(data::PairData(), 0, {}), Error);
}

TEST(Overlay, OptionsAreChecked) {
  OverlayOptions o;
  EXPECT_NO_THROW(o.Check());
  o.flow_opacity = 1.5;
  EXPECT_THROW(o.Check(), Error);
  o = OverlayOptions();
  o.arrow_step = 1;
  EXPECT_THROW(o.Check(), Error);
  o = OverlayOptions();
  o.max_flow = -1;
  EXPECT_THROW(ComposeFrameView(OverlayPair(), 0, o), Error);
}

TEST(Overlay, MaxFlowMagnitudeIgnoresNonFinite) {
  cv::Mat f(2, 2, CV_32FC2, cv::Scalar(3, 4));
  f.at<cv::Vec2f>(0, 0) = cv::Vec2f(std::numeric_limits<float>::quiet_NaN(), 0);
  EXPECT_DOUBLE_EQ(MaxFlowMagnitude(f), 5.0);
  EXPECT_DOUBLE_EQ(MaxFlowMagnitude(cv::Mat()), 0.0);
}

// The pair view re-composes both frames on every toggle and click; the flow colours are
// cached between calls. Proven by behaviour, not by a clock (composition speed is
// `animerun bench overlay`): with the cache, a flow changed in place (same buffer, same
// saturation) still shows the cached colours, so no recolouring ran; without it, it shows.
TEST(Overlay, FlowColourCacheSkipsRecolouring) {
  data::PairData p;
  p.image1 = cv::Mat(48, 64, CV_8UC3, cv::Scalar(200, 180, 160));
  p.segment1 = cv::Mat(48, 64, CV_32SC1);
  p.flow_forward = cv::Mat(48, 64, CV_32FC2);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) {
      p.segment1.at<int>(y, x) = (y / 8) * 8 + x / 8;
      p.flow_forward.at<cv::Vec2f>(y, x) = cv::Vec2f(10 * std::sin(x * 0.1f), 5 * std::cos(y * 0.2f));
    }
  OverlayOptions o;
  o.flow_color = o.boundaries = true;
  o.max_flow = 12.0;  // fixed saturation: the in-place change below keeps it
  FlowColorCache cache;
  const cv::Mat first = ComposeFrameView(p, 0, o, 17, &cache);
  EXPECT_EQ(cv::norm(ComposeFrameView(p, 0, o, 17, &cache), first, cv::NORM_INF), 0.0);
  EXPECT_EQ(cache.flow_data[0], p.flow_forward.data);
  p.flow_forward.forEach<cv::Vec2f>([](cv::Vec2f& f, const int*) { f = cv::Vec2f(-f[1], f[0]); });
  EXPECT_EQ(cv::norm(ComposeFrameView(p, 0, o, 17, &cache), first, cv::NORM_INF), 0.0)
      << "the cached colours were recomputed";
  EXPECT_GT(cv::norm(ComposeFrameView(p, 0, o, 17), first, cv::NORM_INF), 0.0);
  // A different saturation recomputes.
  o.max_flow = 3.0;
  EXPECT_GT(cv::norm(ComposeFrameView(p, 0, o, 17, &cache), first, cv::NORM_INF), 0.0);
  EXPECT_EQ(cache.max_flow[0], 3.0);
}

}  // namespace
}  // namespace animerun::view
