#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/util/error.h"
#include "core/view/flow_probe.h"

namespace animerun::view {
namespace {

TEST(ViewGeometry, PixelAtFloorsSceneCoordinates) {
  EXPECT_EQ(PixelAt(0.0, 0.0), cv::Point(0, 0));
  EXPECT_EQ(PixelAt(3.99, 7.01), cv::Point(3, 7));
  EXPECT_EQ(PixelAt(-0.2, 2.5), cv::Point(-1, 2));  // left of the image is outside, not pixel 0
  EXPECT_EQ(PixelCenter({3, 7}), cv::Point2d(3.5, 7.5));
  // The centre of a pixel maps back to that pixel.
  for (int x : {0, 5, 959}) EXPECT_EQ(PixelAt(PixelCenter({double(x), 2}).x, 2.5).x, x);
}

TEST(ViewGeometry, ViewportAndSceneRoundTrip) {
  // Origin at a fractional scene point, as a centred or scrolled view has.
  const cv::Point2d origin(-37.3, 12.75);
  for (double zoom : {1.0, 1.25, 3.0, 8.0}) {
    for (int x : {0, 7, 40}) {
      const cv::Point v = SceneToViewport(origin, zoom, PixelCenter({double(x), 20.0}));
      EXPECT_EQ(ViewportToPixel(origin, zoom, v), cv::Point(x, 20)) << zoom << " " << x;
    }
  }
  // At zoom 4 a pixel spans 4 viewport pixels, each of which maps back to it.
  const cv::Point2d o(0.0, 0.0);
  for (int v = 0; v < 4; ++v) EXPECT_EQ(ViewportToPixel(o, 4.0, {8 + v, 0}).x, 2);
  EXPECT_EQ(ViewportToPixel(o, 4.0, {12, 0}).x, 3);
  EXPECT_EQ(SceneToViewport(o, 0.5, {10.9, 3.0}), cv::Point(5, 1));
}

TEST(ViewGeometry, ZoomStepsAndFit) {
  EXPECT_DOUBLE_EQ(ZoomStep(1.0, 1), 1.25);
  EXPECT_DOUBLE_EQ(ZoomStep(1.0, -2), 0.64);
  EXPECT_NEAR(ZoomStep(ZoomStep(0.7, 3), -3), 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(ZoomStep(60.0, 5), kMaxZoom);
  EXPECT_DOUBLE_EQ(ZoomStep(0.06, -5), kMinZoom);
  EXPECT_DOUBLE_EQ(ClampZoom(std::nan("")), 1.0);
  EXPECT_DOUBLE_EQ(FitZoom({960, 540}, {480, 540}), 0.5);   // width-limited
  EXPECT_DOUBLE_EQ(FitZoom({960, 540}, {1920, 270}), 0.5);  // height-limited
  EXPECT_DOUBLE_EQ(FitZoom({100, 100}, {400, 300}), 3.0);
  EXPECT_DOUBLE_EQ(FitZoom({0, 0}, {400, 300}), 1.0);
}

data::PairData ProbePair() {
  data::PairData p;
  p.image1 = cv::Mat(20, 30, CV_8UC3, cv::Scalar(0, 0, 0));
  p.image2 = p.image1.clone();
  p.flow_forward = cv::Mat(20, 30, CV_32FC2, cv::Scalar(0, 0));
  p.flow_forward.at<cv::Vec2f>(5, 7) = cv::Vec2f(2.5f, -1.25f);
  p.flow_forward.at<cv::Vec2f>(5, 8) = cv::Vec2f(40.0f, 0.0f);  // lands outside
  p.flow_forward.at<cv::Vec2f>(5, 9) = cv::Vec2f(std::numeric_limits<float>::quiet_NaN(), 0.0f);
  p.flow_backward = cv::Mat(20, 30, CV_32FC2, cv::Scalar(-1, 0.5));
  p.unmatched_forward = cv::Mat(20, 30, CV_8UC1, cv::Scalar(1));
  p.unmatched_forward.at<uint8_t>(5, 7) = 0;
  p.line_area = cv::Mat(20, 30, CV_8UC1, cv::Scalar(3));
  p.line_area.at<uint8_t>(5, 7) = 0;
  p.segment1 = cv::Mat(20, 30, CV_32SC1, cv::Scalar(4));
  return p;
}

TEST(FlowProbe, ReportsFlowTargetAndMasks) {
  const FlowProbe probe = ProbeFlow(ProbePair(), 0, {7, 5});
  ASSERT_TRUE(probe.inside);
  ASSERT_TRUE(probe.has_flow);
  EXPECT_FLOAT_EQ(probe.flow.x, 2.5f);
  EXPECT_FLOAT_EQ(probe.flow.y, -1.25f);
  // The pixel centre (7.5, 5.5) moves by the flow.
  EXPECT_DOUBLE_EQ(probe.target.x, 10.0);
  EXPECT_DOUBLE_EQ(probe.target.y, 4.25);
  EXPECT_TRUE(probe.target_inside);
  EXPECT_EQ(probe.occluded, 1);
  EXPECT_EQ(probe.line, 1);
  EXPECT_EQ(probe.segment, 4);
  const std::string text = probe.Describe();
  EXPECT_NE(text.find("(2.50, -1.25)"), std::string::npos) << text;
  EXPECT_NE(text.find("occluded"), std::string::npos) << text;

  const FlowProbe plain = ProbeFlow(ProbePair(), 0, {0, 0});
  EXPECT_EQ(plain.occluded, 0);
  EXPECT_EQ(plain.line, 0);
  EXPECT_EQ(plain.Describe().find("occluded"), std::string::npos);
}

TEST(FlowProbe, TargetOutsideAndNonFiniteFlow) {
  const FlowProbe far = ProbeFlow(ProbePair(), 0, {8, 5});
  EXPECT_TRUE(far.has_flow);
  EXPECT_FALSE(far.target_inside);
  EXPECT_NE(far.Describe().find("outside"), std::string::npos);
  const FlowProbe nan = ProbeFlow(ProbePair(), 0, {9, 5});
  EXPECT_TRUE(nan.inside);
  EXPECT_FALSE(nan.has_flow);
}

TEST(FlowProbe, SecondFrameUsesBackwardFlowAndNoMasks) {
  const FlowProbe probe = ProbeFlow(ProbePair(), 1, {7, 5});
  EXPECT_TRUE(probe.has_flow);
  EXPECT_FLOAT_EQ(probe.flow.x, -1.0f);
  EXPECT_DOUBLE_EQ(probe.target.x, 6.5);
  EXPECT_DOUBLE_EQ(probe.target.y, 6.0);
  EXPECT_EQ(probe.occluded, -1);
  EXPECT_EQ(probe.line, -1);
  EXPECT_EQ(probe.segment, -1);  // no label map for t+1
}

TEST(FlowProbe, OutsideAndMissingFlow) {
  EXPECT_FALSE(ProbeFlow(ProbePair(), 0, {30, 0}).inside);
  EXPECT_FALSE(ProbeFlow(ProbePair(), 0, {0, -1}).inside);
  data::PairData p = ProbePair();
  p.flow_forward.release();
  const FlowProbe probe = ProbeFlow(p, 0, {1, 1});
  EXPECT_TRUE(probe.inside);
  EXPECT_FALSE(probe.has_flow);
  EXPECT_NE(probe.Describe().find("no flow"), std::string::npos);
  EXPECT_THROW(ProbeFlow(p, -1, {0, 0}), Error);
}

}  // namespace
}  // namespace animerun::view
