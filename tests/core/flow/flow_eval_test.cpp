#include "core/flow/flow_eval.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "parity.h"
#include "test_paths.h"

namespace animerun::flow {
namespace {

namespace fs = std::filesystem;

constexpr int kW = 8, kH = 6;

// A tiny AnimeRun tree: scene s1 with 3 frames (2 pairs), s2 with 2 frames (1 pair),
// integer ground-truth flows (so that gt + offset - gt is exact), all pixels non-occluded
// except the first row, LineArea 0 (line) on the first column. Predictions are gt + (3, 4)
// in s1 (EPE 5) and gt + (0, 1) in s2 (EPE 1).
fs::path MakeDataset(const std::string& name) {
  const fs::path root = test::ScratchDir(name);
  const fs::path split = root / "test";
  cv::RNG rng(7);
  for (const auto& [scene, frames, du, dv] :
       {std::tuple<std::string, int, float, float>{"s1", 3, 3.f, 4.f}, {"s2", 2, 0.f, 1.f}}) {
    for (int f = 0; f < frames; ++f) {
      cv::Mat img(kH, kW, CV_8UC3);
      rng.fill(img, cv::RNG::UNIFORM, 0, 255);
      char stem[16];
      std::snprintf(stem, sizeof stem, "%04d", f);
      io::WriteImage(split / "Frame_Anime" / scene / "original" / (std::string(stem) + ".png"), img);
      if (f == frames - 1) break;
      cv::Mat gt(kH, kW, CV_32FC2);
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x)
          gt.at<cv::Vec2f>(y, x) = {static_cast<float>(rng.uniform(-60, 60)), static_cast<float>(rng.uniform(-60, 60))};
      io::WriteFlo(split / "Flow" / scene / "forward" / (std::string(stem) + ".flo"), gt);
      io::WriteFlo(root / "pred" / scene / "forward" / (std::string(stem) + ".flo"), gt + cv::Scalar(du, dv));
      cv::Mat occ(kH, kW, CV_8UC1, cv::Scalar(1));
      occ.row(0).setTo(0);
      cv::Mat line(kH, kW, CV_8UC1, cv::Scalar(1));
      line.col(0).setTo(0);
      io::WriteNpyMat(split / "UnmatchedForward" / scene / (std::string(stem) + ".npy"), occ);
      io::WriteNpyMat(split / "LineArea" / scene / (std::string(stem) + ".npy"), line);
    }
  }
  return root;
}

double EvalVal(const std::optional<double>& v) {
  EXPECT_TRUE(v.has_value());
  return v.value_or(-1.0);
}

TEST(FlowEval, PredictionFolderGivesKnownEpe) {
  const fs::path root = MakeDataset("flow_eval_known");
  const auto ds = data::AnimeRunDataset::Open(root);
  ASSERT_EQ(ds.AllPairs().size(), 3u);
  const FlowEvalResult r = EvaluateFlowPredictions(ds, root / "pred");
  const double n = kW * kH;
  EXPECT_EQ(r.overall.pairs, 3);
  EXPECT_EQ(r.overall.pixels, 3 * kW * kH);
  EXPECT_NEAR(EvalVal(r.overall.Get(FlowBucket::kAll)), (2 * n * 5 + n * 1) / (3 * n), 1e-12);
  EXPECT_NEAR(EvalVal(r.overall.Get(FlowBucket::kOcc)), 11.0 / 3, 1e-12);  // every row has the same mix
  EXPECT_NEAR(EvalVal(r.overall.Get(FlowBucket::kLine)), 11.0 / 3, 1e-12);
  EXPECT_EQ(r.overall.bucket_pixels[static_cast<int>(FlowBucket::kOcc)], 3 * kW);
  EXPECT_EQ(r.overall.bucket_pixels[static_cast<int>(FlowBucket::kLine)], 3 * kH);
  EXPECT_NEAR(EvalVal(r.overall.px3), 1.0 / 3, 1e-12);  // only s2 (EPE 1 < 3)
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.px1), 0.0);        // EPE 1 is not < 1
  EXPECT_DOUBLE_EQ(EvalVal(r.scenes.at("s1").Get(FlowBucket::kAll)), 5.0);
  EXPECT_DOUBLE_EQ(EvalVal(r.scenes.at("s2").Get(FlowBucket::kNonOcc)), 1.0);
  EXPECT_EQ(r.scenes.at("s1").pairs, 2);
}

TEST(FlowEval, PredictorCallbackSeesThePair) {
  const fs::path root = MakeDataset("flow_eval_predictor");
  const auto ds = data::AnimeRunDataset::Open(root);
  int calls = 0;
  const FlowEvalResult r = EvaluateFlow(ds, [&](const data::FramePair& p, const data::PairData& d) {
    ++calls;
    EXPECT_EQ(d.image1.size(), cv::Size(kW, kH));
    EXPECT_FALSE(d.image2.empty());
    EXPECT_FALSE(p.scene.empty());
    return cv::Mat(d.flow_forward.clone());  // perfect prediction
  });
  EXPECT_EQ(calls, 3);
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.Get(FlowBucket::kAll)), 0.0);
  EXPECT_DOUBLE_EQ(EvalVal(r.overall.px1), 1.0);
}

TEST(FlowEval, MissingOrBadPredictionsAreClearErrors) {
  const fs::path root = MakeDataset("flow_eval_missing");
  const auto ds = data::AnimeRunDataset::Open(root);
  fs::remove(root / "pred" / "s1" / "forward" / "0001.flo");
  fs::remove(root / "pred" / "s2" / "forward" / "0000.flo");
  try {
    EvaluateFlowPredictions(ds, root / "pred");
    FAIL() << "missing predictions accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find((root / "pred" / "s1" / "forward" / "0001.flo").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("2 of 3"), std::string::npos) << msg;
  }
  EXPECT_THROW(EvaluateFlowPredictions(ds, root / "no_such_dir"), Error);

  // A truncated prediction: the reader's error names the file.
  const fs::path root2 = MakeDataset("flow_eval_truncated");
  const auto ds2 = data::AnimeRunDataset::Open(root2);
  const fs::path victim = root2 / "pred" / "s2" / "forward" / "0000.flo";
  fs::resize_file(victim, 20);
  try {
    EvaluateFlowPredictions(ds2, root2 / "pred");
    FAIL() << "truncated prediction accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(victim.string()), std::string::npos) << e.what();
  }
  // A prediction of the wrong size.
  io::WriteFlo(victim, cv::Mat(kH, kW + 1, CV_32FC2, cv::Scalar(0, 0)));
  EXPECT_THROW(EvaluateFlowPredictions(ds2, root2 / "pred"), Error);
}

TEST(FlowEval, HonoursCancellation) {
  const fs::path root = MakeDataset("flow_eval_cancel");
  const auto ds = data::AnimeRunDataset::Open(root);
  JobContext job;
  job.RequestCancel();
  EXPECT_THROW(EvaluateFlowPredictions(ds, root / "pred", &job), Cancelled);
  int reports = 0;
  JobContext counting([&](double, const std::string&) { ++reports; });
  EvaluateFlowPredictions(ds, root / "pred", &counting);
  EXPECT_GE(reports, 3);
}

// The golden fake tree through the dataset indexer and the prediction-folder path.
TEST(FlowEvalGolden, PredictionFolderMatchesOfficialNumbers) {
  ANIMERUN_REQUIRE_GOLDEN();
  const auto root = test::GoldenDir() / "metrics" / "flow" / "AnimeRun_v2";
  const auto ds = data::AnimeRunDataset::Open(root);
  const FlowEvalResult r = EvaluateFlowPredictions(ds, root / "pred");
  std::ifstream in(test::GoldenDir() / "metrics" / "expected_metrics.json");
  const nlohmann::json e = nlohmann::json::parse(in)["flow"]["metrics"];
  EXPECT_EQ(r.overall.pairs, 3);
  const std::pair<const char*, FlowBucket> keys[] = {
      {"epe", FlowBucket::kAll}, {"occ", FlowBucket::kOcc}, {"flat", FlowBucket::kFlat}, {"s>50", FlowBucket::kS50Plus}};
  for (const auto& [key, bucket] : keys)
    test::ExpectParity("eval_flow_pred_folder", key,
                       std::abs(EvalVal(r.overall.Get(bucket)) - e[key]["value_float64_mean"].get<double>()), 1e-9);
  test::ExpectParity("eval_flow_pred_folder", "px3", std::abs(EvalVal(r.overall.px3) - e["px3"]["value"].get<double>()),
                     1e-12);
  EXPECT_EQ(r.scenes.size(), 2u);
  EXPECT_EQ(r.scenes.at("scene_a").pairs, 2);
}

}  // namespace
}  // namespace animerun::flow
