#include "core/segments/segment_stats.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace animerun::segments {
namespace {

// 0 0 1 1 1
// 0 0 1 1 1
// 2 2 2 1 1
// 2 2 2 4 4     (id 3 has no pixels)
cv::Mat HandMap() {
  return (cv::Mat_<int>(4, 5) << 0, 0, 1, 1, 1,  //
          0, 0, 1, 1, 1,                          //
          2, 2, 2, 1, 1,                          //
          2, 2, 2, 4, 4);
}

TEST(SegmentStats, AreaBoxCentroidOfHandMadeMap) {
  const cv::Mat lab = HandMap();
  EXPECT_EQ(CountSegments(lab), 5);
  const auto st = ComputeSegmentStats(lab);
  ASSERT_EQ(st.size(), 5u);
  EXPECT_EQ(st[0].area, 4);
  EXPECT_EQ(st[0].bbox, cv::Rect(0, 0, 2, 2));
  EXPECT_DOUBLE_EQ(st[0].centroid.x, 0.5);
  EXPECT_DOUBLE_EQ(st[0].centroid.y, 0.5);
  EXPECT_EQ(st[1].area, 8);
  EXPECT_EQ(st[1].bbox, cv::Rect(2, 0, 3, 3));
  EXPECT_DOUBLE_EQ(st[1].centroid.x, (2 + 3 + 4 + 2 + 3 + 4 + 3 + 4) / 8.0);
  EXPECT_DOUBLE_EQ(st[1].centroid.y, (0 * 3 + 1 * 3 + 2 * 2) / 8.0);
  EXPECT_EQ(st[2].area, 6);
  EXPECT_EQ(st[2].bbox, cv::Rect(0, 2, 3, 2));
  EXPECT_DOUBLE_EQ(st[2].centroid.x, 1.0);
  EXPECT_DOUBLE_EQ(st[2].centroid.y, 2.5);
  EXPECT_EQ(st[3].area, 0);
  EXPECT_TRUE(st[3].bbox.empty());
  EXPECT_EQ(st[4].area, 2);
  EXPECT_EQ(st[4].bbox, cv::Rect(3, 3, 2, 1));
}

TEST(SegmentStats, BadMapsThrowNamingTheFile) {
  try {
    CountSegments(cv::Mat(2, 2, CV_32SC1, cv::Scalar(-3)), "a/b.npy");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a/b.npy"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("negative"), std::string::npos);
  }
  EXPECT_THROW(CountSegments(cv::Mat()), Error);
  EXPECT_THROW(CountSegments(cv::Mat(2, 2, CV_8UC1, cv::Scalar(1))), Error);
  EXPECT_THROW(ComputeSegmentStats(cv::Mat(2, 2, CV_32FC1, cv::Scalar(1))), Error);
}

TEST(SegmentStats, AdjacencyIsSymmetricFourConnected) {
  const auto adj = SegmentAdjacency(HandMap(), 5);
  ASSERT_EQ(adj.size(), 5u);
  EXPECT_EQ(adj[0], (std::vector<int>{1, 2}));
  EXPECT_EQ(adj[1], (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(adj[2], (std::vector<int>{0, 1, 4}));
  EXPECT_TRUE(adj[3].empty());
  EXPECT_EQ(adj[4], (std::vector<int>{1, 2}));
  // Diagonal contact only (0 at top-left, 1 at bottom-right) is not adjacency.
  const cv::Mat diag = (cv::Mat_<int>(2, 2) << 0, 2, 3, 1);
  const auto adj_diag = SegmentAdjacency(diag, 4);
  EXPECT_EQ(adj_diag[0], (std::vector<int>{2, 3}));
  EXPECT_EQ(adj_diag[1], (std::vector<int>{2, 3}));
}

// Our Hu invariants equal OpenCV's (cv::moments of the binary mask), after the log map.
TEST(SegmentStats, HuMomentsMatchOpenCvAndAreInvariant) {
  cv::Mat lab(60, 80, CV_32SC1, cv::Scalar(0));
  cv::ellipse(lab, cv::Point(25, 30), cv::Size(14, 6), 30, 0, 360, cv::Scalar(1), cv::FILLED);
  std::vector<cv::Point> tri = {{50, 10}, {75, 20}, {55, 45}};
  cv::fillConvexPoly(lab, tri, cv::Scalar(2));
  const auto hu = ComputeHuMoments(lab, 3);
  ASSERT_EQ(hu.size(), 3u);
  for (int s = 1; s <= 2; ++s) {
    const cv::Mat mask = lab == s;
    double ref[7];
    cv::HuMoments(cv::moments(mask, true), ref);
    for (int k = 0; k < 7; ++k) {
      const double mapped = std::copysign(std::log10(1.0 + std::fabs(ref[k]) * 1e4), ref[k]);
      EXPECT_NEAR(hu[static_cast<size_t>(s)][static_cast<size_t>(k)], mapped, 1e-6 + 1e-4 * std::fabs(mapped))
          << "segment " << s << " hu " << k;
    }
  }
  // Translation leaves them unchanged.
  cv::Mat moved(60, 80, CV_32SC1, cv::Scalar(0));
  lab(cv::Rect(0, 0, 70, 55)).copyTo(moved(cv::Rect(7, 4, 70, 55)));
  const auto hu2 = ComputeHuMoments(moved, 3);
  for (size_t k = 0; k < 7; ++k) EXPECT_NEAR(hu2[1][k], hu[1][k], 1e-9);
  // A 2x scaled ellipse has nearly the same first invariants (discretisation aside),
  // while the triangle's differ clearly from the ellipse's.
  cv::Mat big(120, 160, CV_32SC1, cv::Scalar(0));
  cv::ellipse(big, cv::Point(50, 60), cv::Size(28, 12), 30, 0, 360, cv::Scalar(1), cv::FILLED);
  const auto hub = ComputeHuMoments(big, 2);
  EXPECT_NEAR(hub[1][0], hu[1][0], 0.02);
  EXPECT_NEAR(hub[1][1], hu[1][1], 0.1);
  EXPECT_GT(std::fabs(hu[2][1] - hu[1][1]) + std::fabs(hu[2][2] - hu[1][2]), 0.2);
  // A single pixel: zeros.
  cv::Mat one(5, 5, CV_32SC1, cv::Scalar(0));
  one.at<int>(2, 2) = 1;
  // (Bound first: a range-for over a member of a temporary reads freed memory; ASan found it.)
  const auto one_hu = ComputeHuMoments(one, 2);
  for (double v : one_hu[1]) EXPECT_EQ(v, 0.0);
}

TEST(SegmentStats, DominantAndMeanColoursWithExclusion) {
  const cv::Mat lab = HandMap();
  cv::Mat img(4, 5, CV_8UC3, cv::Scalar(10, 20, 30));
  // Segment 1: 5 px of (200, 0, 0), 3 px of (0, 0, 0) marked as line (excluded).
  const cv::Point seg1[] = {{2, 0}, {3, 0}, {4, 0}, {2, 1}, {3, 1}, {4, 1}, {3, 2}, {4, 2}};
  for (int k = 0; k < 8; ++k) img.at<cv::Vec3b>(seg1[k]) = k < 5 ? cv::Vec3b(200, 0, 0) : cv::Vec3b(0, 0, 0);
  cv::Mat line(4, 5, CV_8UC1, cv::Scalar(0));
  for (int k = 5; k < 8; ++k) line.at<uchar>(seg1[k]) = 1;
  // Segment 0: a 2-2 tie between (9, 9, 9) and (5, 5, 5): the smaller packed value wins.
  img.at<cv::Vec3b>(0, 0) = img.at<cv::Vec3b>(0, 1) = cv::Vec3b(9, 9, 9);
  img.at<cv::Vec3b>(1, 0) = img.at<cv::Vec3b>(1, 1) = cv::Vec3b(5, 5, 5);
  // Segment 4: all pixels excluded -> falls back to all of them.
  line.at<uchar>(3, 3) = line.at<uchar>(3, 4) = 1;
  img.at<cv::Vec3b>(3, 3) = img.at<cv::Vec3b>(3, 4) = cv::Vec3b(1, 2, 3);

  const auto dom = DominantColours(lab, 5, img, line);
  EXPECT_EQ(dom[0], cv::Vec3b(5, 5, 5));
  EXPECT_EQ(dom[1], cv::Vec3b(200, 0, 0));
  EXPECT_EQ(dom[2], cv::Vec3b(10, 20, 30));
  EXPECT_EQ(dom[3], cv::Vec3b(0, 0, 0));
  EXPECT_EQ(dom[4], cv::Vec3b(1, 2, 3));
  // Without exclusion segment 1 is still mostly red, but its mean is darker.
  const auto mean_all = MeanColours(lab, 5, img);
  const auto mean_ex = MeanColours(lab, 5, img, line);
  EXPECT_NEAR(mean_ex[1][0], 200.0, 1e-9);
  EXPECT_NEAR(mean_all[1][0], 200.0 * 5 / 8, 1e-9);
  EXPECT_NEAR(mean_ex[0][0], 7.0, 1e-9);
  EXPECT_NEAR(mean_ex[4][2], 3.0, 1e-9);
  EXPECT_THROW(DominantColours(lab, 5, cv::Mat(3, 5, CV_8UC3)), Error);
  EXPECT_THROW(MeanColours(lab, 5, img, cv::Mat(4, 5, CV_32SC1)), Error);
}

}  // namespace
}  // namespace animerun::segments
