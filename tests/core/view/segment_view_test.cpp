#include <gtest/gtest.h>

#include "core/util/error.h"
#include "core/view/segment_view.h"

namespace animerun::view {
namespace {

// 6x4 map: left half segment 0, right half segment 1, bottom-right pixel segment 2.
cv::Mat Labels() {
  cv::Mat m(4, 6, CV_32SC1, cv::Scalar(0));
  m(cv::Rect(3, 0, 3, 4)).setTo(1);
  m.at<int>(3, 5) = 2;
  return m;
}

TEST(SegmentView, BoundaryMarksBothSidesOfEachEdge) {
  const cv::Mat b = SegmentBoundaryMask(Labels());
  ASSERT_EQ(b.type(), CV_8UC1);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 6; ++x) {
      bool expected = x == 2 || x == 3;            // the 0|1 edge
      if ((x == 5 && y >= 2) || (x == 4 && y == 3)) expected = true;  // around the lone 2
      EXPECT_EQ(b.at<uint8_t>(y, x) != 0, expected) << x << "," << y;
    }
}

TEST(SegmentView, UniformMapHasNoBoundary) {
  EXPECT_EQ(cv::countNonZero(SegmentBoundaryMask(cv::Mat(5, 7, CV_32SC1, cv::Scalar(3)))), 0);
  EXPECT_TRUE(SegmentBoundaryMask(cv::Mat()).empty());
  EXPECT_THROW(SegmentBoundaryMask(cv::Mat(2, 2, CV_8UC1)), Error);
}

TEST(SegmentView, MaskAndLookup) {
  const cv::Mat l = Labels();
  EXPECT_EQ(cv::countNonZero(SegmentMask(l, 1)), 11);
  EXPECT_EQ(cv::countNonZero(SegmentMask(l, 7)), 0);
  EXPECT_EQ(cv::countNonZero(SegmentMask(l, -1)), 0);
  EXPECT_EQ(LabelAt(l, {5, 3}), 2);
  EXPECT_EQ(LabelAt(l, {0, 0}), 0);
  EXPECT_EQ(LabelAt(l, {6, 0}), -1);
  EXPECT_EQ(LabelAt(l, {-1, 0}), -1);
  EXPECT_EQ(LabelAt(cv::Mat(), {0, 0}), -1);
  EXPECT_EQ(MatchOf({2, -1, 0}, 0), 2);
  EXPECT_EQ(MatchOf({2, -1, 0}, 1), -1);
  EXPECT_EQ(MatchOf({2, -1, 0}, 3), -1);
  EXPECT_EQ(MatchOf({2, -1, 0}, -1), -1);
}

data::PairData SegmentPair() {
  data::PairData p;
  p.image1 = cv::Mat(4, 6, CV_8UC3, cv::Scalar(0, 0, 0));
  p.image2 = p.image1.clone();
  p.segment1 = Labels();
  // Frame t+1: segments renumbered: old 0 -> 1, old 1 -> 0; old 2 vanished.
  p.segment2 = cv::Mat(4, 6, CV_32SC1, cv::Scalar(1));
  p.segment2(cv::Rect(4, 0, 2, 3)).setTo(0);
  p.match_forward = {1, 0, -1};
  p.match_backward = {1, 0};
  return p;
}

TEST(SegmentView, PickFollowsForwardMatching) {
  const SegmentPick pick = PickSegment(SegmentPair(), 0, {4, 1});
  EXPECT_TRUE(pick.valid());
  EXPECT_EQ(pick.segment, 1);
  EXPECT_EQ(pick.area, 11);
  EXPECT_TRUE(pick.has_matching);
  EXPECT_EQ(pick.match, 0);
  EXPECT_EQ(pick.match_area, 6);
  EXPECT_EQ(pick.match_box, cv::Rect(4, 0, 2, 3));
  EXPECT_NE(pick.Describe().find("t+1: segment 0"), std::string::npos) << pick.Describe();
}

TEST(SegmentView, PickReportsUnmatched) {
  const SegmentPick pick = PickSegment(SegmentPair(), 0, {5, 3});
  EXPECT_EQ(pick.segment, 2);
  EXPECT_FALSE(pick.matched());
  EXPECT_EQ(pick.match_area, 0);
  EXPECT_NE(pick.Describe().find("unmatched"), std::string::npos) << pick.Describe();
}

TEST(SegmentView, PickInSecondFrameUsesBackwardMatching) {
  const SegmentPick pick = PickSegment(SegmentPair(), 1, {0, 0});
  EXPECT_EQ(pick.frame, 1);
  EXPECT_EQ(pick.segment, 1);
  EXPECT_EQ(pick.match, 0);
  EXPECT_EQ(pick.match_area, 12);  // segment 0 of frame t: the left half
}

TEST(SegmentView, PickOutsideOrWithoutData) {
  EXPECT_FALSE(PickSegment(SegmentPair(), 0, {6, 0}).valid());
  EXPECT_NE(PickSegment(SegmentPair(), 0, {-1, 0}).Describe().find("outside"), std::string::npos);
  data::PairData p = SegmentPair();
  p.segment1.release();
  const SegmentPick no_map = PickSegment(p, 0, {1, 1});
  EXPECT_FALSE(no_map.valid());
  EXPECT_NE(no_map.Describe().find("no segment map"), std::string::npos);
  p = SegmentPair();
  p.match_forward.clear();
  const SegmentPick no_match_file = PickSegment(p, 0, {1, 1});
  EXPECT_TRUE(no_match_file.valid());
  EXPECT_FALSE(no_match_file.has_matching);
  EXPECT_NE(no_match_file.Describe().find("no matching file"), std::string::npos);
  EXPECT_THROW(PickSegment(SegmentPair(), 2, {0, 0}), Error);
}

}  // namespace
}  // namespace animerun::view
