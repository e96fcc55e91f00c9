#include "core/flow/flow_viz.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "parity.h"
#include "test_paths.h"

namespace animerun::flow {
namespace {

cv::Mat ConstFlow(int h, int w, float u, float v) { return cv::Mat(h, w, CV_32FC2, cv::Scalar(u, v)); }

cv::Vec3b At(const cv::Mat& img, int y, int x) { return img.at<cv::Vec3b>(y, x); }

// Max abs difference between our image and the official uint8 HxWx3 array.
int MaxAbsDiff(const cv::Mat& ours, const io::NpyArray& ref, int64_t* differing) {
  EXPECT_EQ(ref.type, io::NpyType::kUint8);
  EXPECT_EQ(ref.shape.size(), 3u);
  if (ref.shape.size() != 3 || ref.shape[0] != ours.rows || ref.shape[1] != ours.cols || ref.shape[2] != 3) {
    ADD_FAILURE() << "shape mismatch";
    return 256;
  }
  int worst = 0;
  *differing = 0;
  const uint8_t* r = ref.as<uint8_t>();
  for (int y = 0; y < ours.rows; ++y) {
    const uint8_t* o = ours.ptr<uint8_t>(y);
    for (int i = 0; i < ours.cols * 3; ++i) {
      const int d = std::abs(int(o[i]) - int(r[static_cast<size_t>(y) * ours.cols * 3 + i]));
      if (d) ++*differing;
      worst = std::max(worst, d);
    }
  }
  return worst;
}

struct GoldenCase {
  const char* name;
  double clip;
  bool bgr;
};

TEST(FlowVizGolden, MatchesRaftFlowToImageByteForByte) {
  ANIMERUN_REQUIRE_GOLDEN();
  const GoldenCase cases[] = {
      {"radial", 0.0, false}, {"radial_bgr", 0.0, true}, {"radial_clip5", 5.0, false}, {"raft_dev_b_it4", 0.0, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto dir = test::GoldenDir() / "flowviz";
    const cv::Mat flow = io::ReadFlo(dir / (std::string(c.name) + ".flo"));
    const io::NpyArray ref = io::ReadNpy(dir / (std::string(c.name) + "_image.npy"));
    FlowVizOptions o;
    o.clip_flow = c.clip;
    o.bgr = c.bgr;
    const cv::Mat img = FlowToColor(flow, o);
    ASSERT_EQ(img.type(), CV_8UC3);
    int64_t differing = 0;
    const int worst = MaxAbsDiff(img, ref, &differing);
    test::ExpectParity(std::string("flowviz_") + c.name, "image", worst, 0);
    EXPECT_EQ(differing, 0) << differing << " byte(s) differ";
  }
}

// What viz-flow --bgr writes: the array's channels stored unchanged, as the golden PNG.
TEST(FlowVizGolden, WrittenPngMatchesOfficialPng) {
  ANIMERUN_REQUIRE_GOLDEN();
  const auto dir = test::GoldenDir() / "flowviz";
  FlowVizOptions o;
  o.bgr = true;
  const cv::Mat img = FlowToColor(io::ReadFlo(dir / "radial_bgr.flo"), o);
  const auto out = test::ScratchDir("flow_viz_png") / "radial_bgr.png";
  io::WriteImage(out, img);
  const cv::Mat ours = io::ReadImageRgb(out), ref = io::ReadImageRgb(dir / "radial_bgr.png");
  ASSERT_EQ(ours.size(), ref.size());
  EXPECT_EQ(cv::norm(ours, ref, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(ours, img, cv::NORM_INF), 0.0);
}

TEST(FlowViz, ZeroFlowIsWhite) {
  const cv::Mat img = FlowToColor(ConstFlow(3, 4, 0, 0));
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_EQ(At(img, y, x), cv::Vec3b(255, 255, 255));
}

TEST(FlowViz, DirectionsFollowTheMiddleburyWheel) {
  // One pixel per direction, all of magnitude 2 (so each normalises to just under 1).
  cv::Mat f(1, 4, CV_32FC2);
  f.at<cv::Vec2f>(0, 0) = {2, 0};   // right: red
  f.at<cv::Vec2f>(0, 1) = {-2, 0};  // left: cyan-blue
  f.at<cv::Vec2f>(0, 2) = {0, 2};   // down: yellow-orange
  f.at<cv::Vec2f>(0, 3) = {0, -2};  // up: violet
  const cv::Mat img = FlowToColor(f);
  const cv::Vec3b right = At(img, 0, 0), left = At(img, 0, 1), down = At(img, 0, 2), up = At(img, 0, 3);
  EXPECT_EQ(right, cv::Vec3b(255, 0, 0));
  EXPECT_LT(left[0], 3);
  EXPECT_GT(left[1], 190);
  EXPECT_GE(left[2], 254);
  EXPECT_GE(down[0], 254);
  EXPECT_GT(down[1], 200);
  EXPECT_LT(down[2], 3);
  EXPECT_GE(up[2], 254);
  EXPECT_GT(up[0], 60);
  EXPECT_LT(up[0], 120);
  EXPECT_LT(up[1], 3);
}

TEST(FlowViz, FixedMaximumScalesAndSaturates) {
  cv::Mat f(1, 3, CV_32FC2);
  f.at<cv::Vec2f>(0, 0) = {2, 0};  // half of max: pale red
  f.at<cv::Vec2f>(0, 1) = {4, 0};  // exactly max: full red
  f.at<cv::Vec2f>(0, 2) = {8, 0};  // beyond: darkened by 0.75 (official out-of-range rule)
  FlowVizOptions o;
  o.max_flow = 4.0;
  const cv::Mat img = FlowToColor(f, o);
  EXPECT_EQ(At(img, 0, 0), cv::Vec3b(255, 127, 127));  // floor(255 * (1 - 0.5))
  EXPECT_EQ(At(img, 0, 1), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(At(img, 0, 2), cv::Vec3b(191, 0, 0));      // floor(255 * 0.75)
  // Automatic maximum: the largest pixel is (almost) fully saturated, never darkened.
  const cv::Mat a = FlowToColor(f);
  EXPECT_EQ(At(a, 0, 2), cv::Vec3b(255, 0, 0));
}

TEST(FlowViz, NonFiniteIsBlackAndIgnoredForTheMaximum) {
  cv::Mat f(2, 2, CV_32FC2, cv::Scalar(1, 1));
  f.at<cv::Vec2f>(0, 0) = {3, -1};
  cv::Mat with_nan = f.clone();
  with_nan.at<cv::Vec2f>(1, 1) = {std::numeric_limits<float>::quiet_NaN(), 0};
  with_nan.at<cv::Vec2f>(1, 0) = {0, std::numeric_limits<float>::infinity()};
  const cv::Mat ref = FlowToColor(f);
  const cv::Mat img = FlowToColor(with_nan);
  EXPECT_EQ(At(img, 1, 1), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(At(img, 1, 0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(At(img, 0, 0), At(ref, 0, 0));
  EXPECT_EQ(At(img, 0, 1), At(ref, 0, 1));
}

TEST(FlowViz, ClipKeepsTheOfficialZeroLowerBound) {
  cv::Mat f(1, 2, CV_32FC2);
  f.at<cv::Vec2f>(0, 0) = {-3, -3};  // clipped to (0, 0): white
  f.at<cv::Vec2f>(0, 1) = {9, 0};    // clipped to (5, 0): the maximum, red
  FlowVizOptions o;
  o.clip_flow = 5.0;
  const cv::Mat img = FlowToColor(f, o);
  EXPECT_EQ(At(img, 0, 0), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(At(img, 0, 1), cv::Vec3b(255, 0, 0));
}

TEST(FlowViz, BgrSwapsChannels) {
  cv::Mat f(4, 5, CV_32FC2);
  cv::randu(f, -10, 10);
  FlowVizOptions o;
  const cv::Mat rgb = FlowToColor(f, o);
  o.bgr = true;
  const cv::Mat bgr = FlowToColor(f, o);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x) {
      const cv::Vec3b a = At(rgb, y, x), b = At(bgr, y, x);
      EXPECT_EQ(a[0], b[2]);
      EXPECT_EQ(a[1], b[1]);
      EXPECT_EQ(a[2], b[0]);
    }
}

TEST(FlowViz, RejectsBadInputAndOptions) {
  EXPECT_THROW(FlowToColor(cv::Mat()), Error);
  EXPECT_THROW(FlowToColor(cv::Mat(2, 2, CV_32FC3, cv::Scalar::all(0))), Error);
  FlowVizOptions o;
  o.max_flow = -1;
  EXPECT_THROW(FlowToColor(ConstFlow(2, 2, 1, 1), o), Error);
  o.max_flow = 0;
  o.clip_flow = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(o.Check(), Error);
}

TEST(FlowViz, LegendIsAWheelOnWhite) {
  const cv::Mat w = ColorWheelLegend(65);
  ASSERT_EQ(w.size(), cv::Size(65, 65));
  ASSERT_EQ(w.type(), CV_8UC3);
  EXPECT_EQ(At(w, 32, 32), cv::Vec3b(255, 255, 255));  // centre: zero flow
  EXPECT_EQ(At(w, 0, 0), cv::Vec3b(255, 255, 255));    // corner: outside the circle
  const cv::Vec3b right = At(w, 32, 63);               // near the edge, pointing right: red
  EXPECT_GE(right[0], 250);
  EXPECT_LT(right[1], 20);
  EXPECT_LT(right[2], 20);
  const cv::Vec3b left = At(w, 32, 1);
  EXPECT_LT(left[0], 20);
  EXPECT_GT(left[2], 240);
  EXPECT_THROW(ColorWheelLegend(1), Error);
}

TEST(FlowViz, ArrowsDrawWhereTheFlowMoves) {
  const cv::Mat img(32, 32, CV_8UC3, cv::Scalar(255, 255, 255));
  ArrowOptions o;
  o.step = 16;
  // No motion: nothing drawn.
  EXPECT_EQ(cv::norm(DrawFlowArrows(img, ConstFlow(32, 32, 0, 0), o), img, cv::NORM_INF), 0.0);
  // Rightward motion of 6 px from the sample points (8, 8), (24, 8), ...: dark pixels to their right.
  const cv::Mat out = DrawFlowArrows(img, ConstFlow(32, 32, 6, 0), o);
  EXPECT_LT(At(out, 8, 11)[0], 128);
  EXPECT_LT(At(out, 24, 27)[0], 128);
  EXPECT_EQ(At(out, 16, 4), cv::Vec3b(255, 255, 255));  // between rows of arrows
  EXPECT_EQ(At(img, 8, 11), cv::Vec3b(255, 255, 255));  // the input is untouched
  // Grey input is accepted; size mismatch is not.
  EXPECT_EQ(DrawFlowArrows(cv::Mat(32, 32, CV_8UC1, cv::Scalar(0)), ConstFlow(32, 32, 1, 1)).type(), CV_8UC3);
  EXPECT_THROW(DrawFlowArrows(img, ConstFlow(16, 32, 1, 1)), Error);
  o.step = 0;
  EXPECT_THROW(DrawFlowArrows(img, ConstFlow(32, 32, 1, 1), o), Error);
}

}  // namespace
}  // namespace animerun::flow
