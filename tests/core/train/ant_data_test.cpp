#include "core/train/ant_data.h"

#include <gtest/gtest.h>

#include "core/util/error.h"

namespace animerun::train {
namespace {

// 6x4 labels: frame 0 has 4 segments of different sizes, frame 1 the same layout shifted
// ids. Returns {labels0, labels1}.
cv::Mat Labels(const std::vector<std::vector<int>>& rows) {
  cv::Mat m(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()), CV_32SC1);
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) m.at<int>(y, x) = rows[y][x];
  return m;
}

TEST(AntData, CropRenumbersByAreaAndDropsPartnersOutsideTheCrop) {
  const cv::Mat l0 = Labels({{0, 0, 1, 1, 1, 2},
                             {0, 0, 1, 1, 1, 2},
                             {3, 3, 3, 3, 3, 3},
                             {3, 3, 3, 3, 3, 3}});
  const cv::Mat l1 = Labels({{5, 5, 4, 4, 4, 1},
                             {5, 5, 4, 4, 4, 0},
                             {3, 3, 3, 3, 3, 3},
                             {2, 2, 2, 2, 2, 2}});
  cv::Mat img0(4, 6, CV_8UC3), img1(4, 6, CV_8UC3);
  cv::randu(img0, 0, 255);
  cv::randu(img1, 0, 255);
  const std::vector<int> matches = {5, 4, 1, 3};  // 2 -> 1 lies in the cropped-away column
  const cv::Rect roi(0, 0, 5, 4);
  const AntSample s = CropAntSample(img0, img1, l0, l1, matches, roi);
  // frame 0 in the crop: id 3 (10 px), id 1 (6 px), id 0 (4 px) -> 0, 1, 2; id 2 left it.
  ASSERT_EQ(s.num0(), 3);
  EXPECT_EQ(s.area0, (std::vector<int64_t>{10, 6, 4}));
  EXPECT_EQ(s.labels0.at<int>(0, 0), 2);
  EXPECT_EQ(s.labels0.at<int>(3, 4), 0);
  // frame 1: ids 4 (6 px), 3 (5), 2 (5, first seen later than 3), 5 (4) -> 0, 1, 2, 3
  ASSERT_EQ(s.num1(), 4);
  EXPECT_EQ(s.area1, (std::vector<int64_t>{6, 5, 5, 4}));
  EXPECT_EQ(s.labels1.at<int>(2, 0), 1);
  EXPECT_EQ(s.labels1.at<int>(3, 0), 2);
  // old 3 -> old 3 = new 1; old 1 -> old 4 = new 0; old 0 -> old 5 = new 3
  EXPECT_EQ(s.matches, (std::vector<int>{1, 0, 3}));
  EXPECT_EQ(s.boxes0[2], (std::array<int, 4>{0, 1, 0, 1}));
  EXPECT_EQ(s.boxes0[0], (std::array<int, 4>{0, 4, 2, 3}));
  EXPECT_EQ(cv::norm(s.image0, img0(roi), cv::NORM_INF), 0.0);

  // A partner that is itself cropped away becomes -1: crop the last row off frame 1's id 2.
  const std::vector<int> m2 = {5, 4, 1, 2};
  const AntSample t = CropAntSample(img0, img1, l0, l1, m2, cv::Rect(0, 0, 6, 3));
  // frame 0: ids 1 and 3 tie at 6 px (1 is seen first), then 0, then 2. Old 3 matched
  // frame 1's id 2, which only lives in the cropped-away last row.
  ASSERT_EQ(t.num0(), 4);
  EXPECT_EQ(t.matches, (std::vector<int>{0, -1, 2, 3}));
  // Matches shorter than the id range count as unmatched.
  const AntSample u = CropAntSample(img0, img1, l0, l1, {5}, roi);
  EXPECT_EQ(u.matches, (std::vector<int>{-1, -1, 3}));
}

TEST(AntData, CropRejectsBadInput) {
  const cv::Mat l = Labels({{0, 1}, {1, 0}});
  const cv::Mat img(2, 2, CV_8UC3, cv::Scalar(1, 2, 3));
  EXPECT_THROW(CropAntSample(img, img, l, l, {0, 1}, cv::Rect(1, 1, 2, 2)), Error);
  EXPECT_THROW(CropAntSample(img, img, l, Labels({{0, 1, 2}}), {0, 1}, cv::Rect(0, 0, 1, 1)), Error);
  cv::Mat lf;
  l.convertTo(lf, CV_32F);
  EXPECT_THROW(CropAntSample(img, img, lf, l, {0, 1}, cv::Rect(0, 0, 1, 1)), Error);
}

TEST(AntData, WholeSampleKeepsIdsAndMeasuresBoxes) {
  const cv::Mat l0 = Labels({{0, 0, 2}, {1, 1, 2}});
  const cv::Mat l1 = Labels({{1, 1, 1}, {0, 0, 0}});
  const cv::Mat img(2, 3, CV_8UC3, cv::Scalar(0, 0, 0));
  const AntSample s = WholeAntSample(img, img, l0, l1, {1, 0, -1});
  EXPECT_EQ(s.area0, (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(s.boxes0[2], (std::array<int, 4>{2, 2, 0, 1}));
  EXPECT_EQ(s.num1(), 2);
  EXPECT_EQ(s.labels0.at<int>(1, 0), 1);
  EXPECT_THROW(WholeAntSample(img, img, Labels({{0, -1, 0}, {0, 0, 0}}), l1, {}), Error);
}

TEST(AntData, RandomCropsStayInsideAndFollowTheGenerator) {
  TrainRng a(7), b(7);
  for (int i = 0; i < 200; ++i) {
    const cv::Rect r = RandomCropRect({100, 50}, 40, 30, a);
    EXPECT_EQ(r.width, 30);
    EXPECT_EQ(r.height, 40);
    EXPECT_GE(r.x, 0);
    EXPECT_GE(r.y, 0);
    EXPECT_LE(r.x + r.width, 100);
    EXPECT_LE(r.y + r.height, 50);
    EXPECT_EQ(r, RandomCropRect({100, 50}, 40, 30, b));
  }
  const cv::Rect whole = RandomCropRect({20, 10}, 368, 368, a);
  EXPECT_EQ(whole, cv::Rect(0, 0, 20, 10));
  // The generator state round-trips through its text form.
  TrainRng c(3);
  c.Next();
  TrainRng d;
  d.Deserialize(c.Serialize());
  EXPECT_EQ(c.Next(), d.Next());
  EXPECT_THROW(d.Deserialize("garbage"), Error);
}

}  // namespace
}  // namespace animerun::train
