#include "core/segments/match_eval.h"

#include <gtest/gtest.h>

#include "core/io/image_io.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::segments {
namespace {

namespace fs = std::filesystem;

// One scene, 3 frames of 4x4 with 4 segments (quadrants of 4 pixels) except the last
// frame, whose labels go up to 301 (acc_300 membership for pair 1 only).
// gt pair 0: [0, 1, -1, 3]; pair 1: [1, 0, 2, 3].
// pred pair 0: [0, 2, -1, 3] (3/4 right, valid 2/3, invalid 1/1, area 12/16);
// pred pair 1: [1, 0, 2, 3] (all right).
fs::path MakeDataset(const std::string& name) {
  const fs::path root = test::ScratchDir(name);
  const fs::path split = root / "test";
  for (int f = 0; f < 3; ++f) {
    const std::string stem = "Image000" + std::to_string(f);
    io::WriteImage(split / "Frame_Anime" / "sc" / "original" / (stem + ".png"),
                   cv::Mat(4, 4, CV_8UC3, cv::Scalar(10 * f, 20, 30)));
    cv::Mat seg(4, 4, CV_32SC1);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) seg.at<int>(y, x) = (y / 2) * 2 + x / 2;
    if (f == 2) {  // many segments in the last frame: ids 0..301 would not fit 4x4, so use a few high ids
      seg.at<int>(3, 3) = 301;
    }
    io::WriteNpyMat(split / "Segment" / "sc" / (stem + ".npy"), seg, true);
  }
  const std::vector<std::vector<int>> gt = {{0, 1, -1, 3}, {1, 0, 2, 3}};
  const std::vector<std::vector<int>> pred = {{0, 2, -1, 3}, {1, 0, 2, 3}};
  for (int k = 0; k < 2; ++k) {
    const std::string stem = "Image000" + std::to_string(k) + ".json";
    io::WriteMatchJson(split / "SegMatching" / "sc" / "forward" / stem, gt[k]);
    io::WriteMatchJson(root / "pred" / "sc" / "forward" / stem, pred[k]);
  }
  return root;
}

double EvalVal(const std::optional<double>& v) {
  EXPECT_TRUE(v.has_value());
  return v.value_or(-1.0);
}

TEST(MatchEval, PredictionFolderGivesKnownAccuracies) {
  const fs::path root = MakeDataset("match_eval_known");
  const auto ds = data::AnimeRunDataset::Open(root);
  ASSERT_EQ(ds.AllPairs().size(), 2u);
  const MatchEvalResult r = EvaluateMatchPredictions(ds, root / "pred");
  ASSERT_EQ(r.per_pair.size(), 2u);
  EXPECT_DOUBLE_EQ(r.per_pair[0].accuracy, 0.75);
  EXPECT_DOUBLE_EQ(EvalVal(r.per_pair[0].area_accuracy), 0.75);
  EXPECT_EQ(r.per_pair[0].name, "Image0000");
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.acc), (0.75 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.valid_acc), (static_cast<float>(2.0 / 3.0) + 1.0) / 2);
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.invalid_acc), 1.0);
  EXPECT_EQ(r.overall.pairs_invalid, 1);
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.acc_300), 1.0);  // only pair 1 (frame t+1 has id 301)
  EXPECT_EQ(r.overall.pairs_300, 1);
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.area_acc), (0.75 + 1.0) / 2);
  EXPECT_EQ(r.scenes.at("sc").pairs, 2);
}

TEST(MatchEval, PredictorCallbackAndShortPredictions) {
  const fs::path root = MakeDataset("match_eval_predictor");
  const auto ds = data::AnimeRunDataset::Open(root);
  const MatchEvalResult r = EvaluateMatch(ds, [](const data::FramePair&, const data::PairData& d) {
    EXPECT_FALSE(d.image1.empty());
    EXPECT_FALSE(d.segment1.empty());
    return std::vector<int>(4, -1);  // everything unmatched
  });
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.acc), (0.25 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.invalid_acc), 1.0);
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.valid_acc), 0.0);
  // A predictor returning the wrong length is an error.
  EXPECT_THROW(EvaluateMatch(ds, [](const data::FramePair&, const data::PairData&) { return std::vector<int>(3, 0); }),
               Error);
  // A prediction file with fewer keys: the absent ids count as -1.
  io::WriteMatchJson(root / "pred" / "sc" / "forward" / "Image0000.json", {0, 1});
  const MatchEvalResult r2 = EvaluateMatchPredictions(ds, root / "pred");
  EXPECT_DOUBLE_EQ(r2.per_pair[0].accuracy, 0.75);  // 0, 1 and the -1 of id 2 right; id 3 wrong
}

TEST(MatchEval, MissingAndCorruptPredictionsAreClearErrors) {
  const fs::path root = MakeDataset("match_eval_missing");
  const auto ds = data::AnimeRunDataset::Open(root);
  const fs::path victim = root / "pred" / "sc" / "forward" / "Image0001.json";
  fs::remove(victim);
  try {
    EvaluateMatchPredictions(ds, root / "pred");
    FAIL() << "missing prediction accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(victim.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("1 of 2"), std::string::npos) << msg;
  }
  // Corrupt JSON, and a key beyond the ground truth's segments: errors naming the file.
  for (const std::string text : {"{\"0\": [1], ", "{\"7\": [0]}"}) {
    FILE* f = std::fopen(victim.string().c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    try {
      EvaluateMatchPredictions(ds, root / "pred");
      FAIL() << "bad prediction accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(victim.string()), std::string::npos) << e.what();
    }
  }
  JobContext job;
  job.RequestCancel();
  EXPECT_THROW(EvaluateMatch(ds, [](const data::FramePair&, const data::PairData&) { return std::vector<int>(4, 0); },
                             &job),
               Cancelled);
}

}  // namespace
}  // namespace animerun::segments
