#include <gtest/gtest.h>

#include <fstream>

#include "core/io/image_io.h"
#include "core/util/error.h"
#include "core/view/pair_summary.h"
#include "test_paths.h"

namespace animerun::view {
namespace {

// 10x4 pair: flow (3, 4) (|5|) on the left 5 columns, 0 on the right; row 0 occluded;
// column 0 is line; segments 0/1/2 in t, 0/1 in t+1; matching 0->1, 1->-1, 2->0.
data::PairData SummaryPair() {
  data::PairData p;
  p.image1 = cv::Mat(4, 10, CV_8UC3, cv::Scalar(9, 9, 9));
  p.image2 = p.image1.clone();
  p.flow_forward = cv::Mat(4, 10, CV_32FC2, cv::Scalar(0, 0));
  p.flow_forward(cv::Rect(0, 0, 5, 4)).setTo(cv::Scalar(3, 4));
  p.unmatched_forward = cv::Mat(4, 10, CV_8UC1, cv::Scalar(1));
  p.unmatched_forward.row(0).setTo(0);
  p.line_area = cv::Mat(4, 10, CV_8UC1, cv::Scalar(1));
  p.line_area.col(0).setTo(0);
  p.segment1 = cv::Mat(4, 10, CV_32SC1, cv::Scalar(0));
  p.segment1.col(4).setTo(1);
  p.segment1.col(9).setTo(2);
  p.segment2 = cv::Mat(4, 10, CV_32SC1, cv::Scalar(0));
  p.segment2.col(3).setTo(1);
  p.match_forward = {1, -1, 0};
  return p;
}

double Bucket(const std::vector<std::pair<std::string, double>>& v, const std::string& name) {
  for (const auto& [n, x] : v)
    if (n == name) return x;
  ADD_FAILURE() << "no bucket " << name;
  return -1;
}

TEST(PairSummary, CountsSegmentsMatchesAndMasks) {
  const PairSummary s = SummarizePair(SummaryPair());
  EXPECT_EQ(s.size, cv::Size(10, 4));
  EXPECT_EQ(*s.segments1, 3);
  EXPECT_EQ(*s.segments2, 2);
  EXPECT_EQ(*s.forward_entries, 3);
  EXPECT_EQ(*s.matched_forward, 2);
  EXPECT_DOUBLE_EQ(*s.occluded_fraction, 0.25);
  EXPECT_DOUBLE_EQ(*s.line_fraction, 0.1);
  EXPECT_DOUBLE_EQ(*s.mean_flow, 2.5);
  EXPECT_DOUBLE_EQ(*s.max_flow, 5.0);
  const auto lines = s.Lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "size  10 x 4");
}

TEST(PairSummary, MeanMotionPerBucketUsesTheOfficialMasks) {
  const PairSummary s = SummarizePair(SummaryPair());
  EXPECT_NEAR(Bucket(s.mean_motion, "epe"), 2.5, 1e-6);
  EXPECT_NEAR(Bucket(s.mean_motion, "epe_occ"), 2.5, 1e-6);   // row 0: 5 moving of 10
  EXPECT_NEAR(Bucket(s.mean_motion, "epe_line"), 5.0, 1e-6);  // column 0 moves
  EXPECT_NEAR(Bucket(s.mean_motion, "epe_flat"), 5.0 * 16 / 36, 1e-6);  // columns 1..4 of 1..9
  auto pixels = [&](const std::string& name) {
    for (const auto& [n, c] : s.bucket_pixels)
      if (n == name) return c;
    return int64_t{-1};
  };
  EXPECT_EQ(pixels("epe_s0_10"), 40);  // every |flow| is 0 or 5
  EXPECT_EQ(pixels("epe_s50plus"), 0);
  EXPECT_EQ(pixels("epe_occ"), 10);
  std::string all;
  for (const auto& l : s.Lines()) all += l + "\n";
  EXPECT_NE(all.find("mean |flow|  occluded 2.50  visible 2.50"), std::string::npos) << all;
  EXPECT_NE(all.find("<=10 100.0%"), std::string::npos) << all;
}

TEST(PairSummary, AbsentDataIsAbsent) {
  data::PairData p;
  p.image1 = cv::Mat(3, 3, CV_8UC3, cv::Scalar(0, 0, 0));
  const PairSummary s = SummarizePair(p);
  EXPECT_FALSE(s.segments1);
  EXPECT_FALSE(s.matched_forward);
  EXPECT_FALSE(s.mean_flow);
  EXPECT_TRUE(s.mean_motion.empty());
  EXPECT_EQ(s.Lines().size(), 1u);
}

TEST(PairSummary, ScoresAPrediction) {
  const data::PairData p = SummaryPair();
  cv::Mat pred = p.flow_forward.clone();
  pred.at<cv::Vec2f>(3, 9) = cv::Vec2f(6, 8);  // one pixel off by 10
  const PredictionScore score = ScorePrediction(p, pred, "pred.flo");
  EXPECT_NEAR(Bucket(score.epe, "epe"), 10.0 / 40, 1e-6);
  EXPECT_NEAR(*score.px1, 39.0 / 40, 1e-9);
  EXPECT_FALSE(score.Lines().empty());
  EXPECT_THROW(ScorePrediction(p, cv::Mat(2, 2, CV_32FC2, cv::Scalar(0, 0)), "small.flo"), Error);
  data::PairData no_gt = p;
  no_gt.flow_forward.release();
  try {
    ScorePrediction(no_gt, pred, "pred.flo");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pred.flo"), std::string::npos);
  }
}

TEST(PairSummary, DetectsSplits) {
  const auto root = test::ScratchDir("view_detect_splits");
  EXPECT_TRUE(DetectSplits(root).empty());
  std::filesystem::create_directories(root / "train" / "Frame_Anime");
  EXPECT_EQ(DetectSplits(root), std::vector<std::string>{"train"});
  std::filesystem::create_directories(root / "test" / "Frame_Anime");
  EXPECT_EQ(DetectSplits(root), (std::vector<std::string>{"test", "train"}));
  EXPECT_EQ(DetectSplits(root / "test"), std::vector<std::string>{""});
  EXPECT_TRUE(DetectSplits(root / "missing").empty());
}

TEST(PairSummary, Thumbnails) {
  const cv::Mat big(540, 960, CV_8UC3, cv::Scalar(1, 2, 3));
  EXPECT_EQ(MakeThumbnail(big, 128, 72).size(), cv::Size(128, 72));
  EXPECT_EQ(MakeThumbnail(big, 128, 200).size(), cv::Size(128, 72));
  EXPECT_EQ(MakeThumbnail(cv::Mat(10, 20, CV_8UC3), 128, 72).size(), cv::Size(20, 10));  // never enlarged
  const auto dir = test::ScratchDir("view_thumbnails");
  io::WriteImage(dir / "ok.png", big);
  EXPECT_EQ(ReadThumbnail(dir / "ok.png", 96, 96).size(), cv::Size(96, 54));
  std::ofstream(dir / "bad.png") << "not a png";
  try {
    ReadThumbnail(dir / "bad.png", 96, 96);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.png"), std::string::npos);
  }
}

}  // namespace
}  // namespace animerun::view
