// The loaders and writers against files made by the official Python tools (numpy 1.24,
// json.dump, the AnimeRun flow writer): reading must agree, and writing the same data
// back must give the same bytes.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::io {
namespace {
namespace fs = std::filesystem;

nlohmann::json Manifest() { return nlohmann::json::parse(ReadFileText(test::GoldenDir() / "manifest.json")); }

TEST(GoldenIo, FloReadsAndRewritesIdentically) {
  ANIMERUN_REQUIRE_GOLDEN();
  const fs::path tree = test::GoldenDir() / "metrics/flow/AnimeRun_v2";
  const fs::path flo = tree / "test/Flow/scene_a/forward/0000.flo";
  const cv::Mat f = ReadFlo(flo);
  ASSERT_EQ(f.type(), CV_32FC2);
  // The flow has the size of its frame.
  const cv::Mat frame = ReadImageRgb(tree / "test/Frame_Anime/scene_a/original/0000.png");
  EXPECT_EQ(f.size(), frame.size());
  EXPECT_EQ(f.size(), cv::Size(56, 40));
  EXPECT_TRUE(cv::checkRange(f));
  EXPECT_GT(cv::norm(f, cv::NORM_INF), 0.5);  // not an all-zero field

  const auto out = test::ScratchDir("io_golden_flo") / "0000.flo";
  WriteFlo(out, f);
  EXPECT_EQ(ReadFileBytes(out), ReadFileBytes(flo));

  int n = 0;
  for (const char* sub : {"test/Flow/scene_a/forward", "test/Flow/scene_b/forward", "pred/scene_a/forward"})
    for (const auto& p : ListFiles(tree / sub, {".flo"})) {
      EXPECT_FALSE(ReadFlowAuto(p).empty()) << p;
      ++n;
    }
  EXPECT_GE(n, 5);
}

TEST(GoldenIo, NumpyUint8MasksRewriteIdentically) {
  ANIMERUN_REQUIRE_GOLDEN();
  const fs::path dir = test::GoldenDir() / "metrics/flow/AnimeRun_v2/test";
  for (const char* rel : {"LineArea/scene_a/0000.npy", "UnmatchedForward/scene_b/0000.npy"}) {
    SCOPED_TRACE(rel);
    const NpyArray a = ReadNpy(dir / rel);
    EXPECT_EQ(a.type, NpyType::kUint8);
    EXPECT_EQ(a.shape.size(), 2u);
    const cv::Mat m = ReadNpyMask(dir / rel);
    ASSERT_EQ(m.type(), CV_8UC1);
    EXPECT_EQ(m.rows, a.shape[0]);
    EXPECT_EQ(m.cols, a.shape[1]);
    // Both kinds of pixel occur in these masks.
    EXPECT_GT(cv::countNonZero(m), 0);
    EXPECT_LT(cv::countNonZero(m), static_cast<int>(m.total()));
    const auto out = test::ScratchDir("io_golden_mask") / "m.npy";
    WriteNpyMat(out, m);
    EXPECT_EQ(ReadFileBytes(out), ReadFileBytes(dir / rel));  // same header layout as numpy
  }
}

TEST(GoldenIo, Int64SegmentMapsFollowTheirContract) {
  ANIMERUN_REQUIRE_GOLDEN();
  const nlohmann::json info = Manifest()["inputs"]["dev_ant"];
  for (const char* which : {"seg1", "seg2"}) {
    SCOPED_TRACE(which);
    const fs::path p = test::GoldenDir() / info[which].get<std::string>();
    EXPECT_EQ(ReadNpy(p).type, NpyType::kInt64);
    const cv::Mat l = ReadNpyLabels(p);
    ASSERT_EQ(l.type(), CV_32SC1);
    EXPECT_EQ(l.rows, info["height"].get<int>());
    EXPECT_EQ(l.cols, info["width"].get<int>());
    // Ids are numbered 0..N-1 in raster order of first appearance.
    int next = 0;
    for (int y = 0; y < l.rows; ++y)
      for (int x = 0; x < l.cols; ++x) {
        const int v = l.at<int32_t>(y, x);
        ASSERT_GE(v, 0);
        ASSERT_LE(v, next) << "at " << x << "," << y;
        if (v == next) ++next;
      }
    const std::string count_key = std::string("n_segments") + (which[3] == '1' ? "1" : "2");
    EXPECT_EQ(next, info[count_key].get<int>());
    const auto out = test::ScratchDir("io_golden_seg") / "s.npy";
    WriteNpyMat(out, l, /*int32_as_int64=*/true);
    EXPECT_EQ(ReadFileBytes(out), ReadFileBytes(p));
  }
}

TEST(GoldenIo, MatchJsonAgreesWithManifestAndNpy) {
  ANIMERUN_REQUIRE_GOLDEN();
  const nlohmann::json info = Manifest()["inputs"]["dev_ant"];
  const int n1 = info["n_segments1"].get<int>(), n2 = info["n_segments2"].get<int>();
  const fs::path gt = test::GoldenDir() / info["gt_matches"].get<std::string>();
  const std::vector<int> m = ReadMatchJson(gt, n1);
  ASSERT_EQ(static_cast<int>(m.size()), n1);
  int unmatched = 0;
  for (int v : m) {
    EXPECT_LT(v, n2);
    unmatched += v == -1;
  }
  EXPECT_EQ(unmatched, info["n_gt_unmatched"].get<int>());
  const auto out = test::ScratchDir("io_golden_json") / "m.json";
  WriteMatchJson(out, m);
  EXPECT_EQ(ReadFileText(out), ReadFileText(gt));  // byte-identical to json.dump

  // The model's matches as JSON and as the int64 array must agree.
  const fs::path ant = test::GoldenDir() / "ant/ant_dev";
  const NpyArray arr = ReadNpy(ant / "matches0.npy");
  ASSERT_EQ(arr.type, NpyType::kInt64);
  const std::vector<int> pred = ReadMatchJson(ant / "matches.json", n1);
  ASSERT_EQ(arr.numel(), static_cast<int64_t>(pred.size()));
  for (size_t i = 0; i < pred.size(); ++i) EXPECT_EQ(pred[i], arr.as<int64_t>()[i]) << i;

  for (int i = 0; i < 3; ++i) {
    const fs::path dir = test::GoldenDir() / "metrics/segmat";
    const std::string pair = "pair" + std::to_string(i);
    double max_label = 0;
    cv::minMaxLoc(ReadNpyLabels(dir / (pair + "_seg0.npy")), nullptr, &max_label);
    const auto g = ReadMatchJson(dir / (pair + "_gt.json"), static_cast<int>(max_label) + 1);
    EXPECT_EQ(g.size(), ReadMatchJson(dir / (pair + "_pred.json")).size()) << pair;
  }
}

TEST(GoldenIo, ImagePngMatchesNumpyArray) {
  ANIMERUN_REQUIRE_GOLDEN();
  // flowviz stores the same uint8 RGB array as .npy and as PNG (channels unchanged).
  const fs::path dir = test::GoldenDir() / "flowviz";
  for (const char* name : {"radial", "radial_bgr", "raft_dev_b_it4"}) {
    SCOPED_TRACE(name);
    const cv::Mat img = ReadImageRgb(dir / (std::string(name) + ".png"));
    const NpyArray a = ReadNpy(dir / (std::string(name) + "_image.npy"));
    ASSERT_EQ(a.type, NpyType::kUint8);
    ASSERT_EQ(a.shape, (std::vector<int64_t>{img.rows, img.cols, 3}));
    ASSERT_TRUE(img.isContinuous());
    EXPECT_EQ(std::vector<uint8_t>(img.data, img.data + img.total() * 3), a.data);
    const cv::Mat f = ReadNpyFloat(dir / (std::string(name) + "_image.npy"));
    EXPECT_EQ(f.type(), CV_32FC3);
    EXPECT_EQ(ReadFlo(dir / (std::string(name) + ".flo")).size(), img.size());
  }
}

}  // namespace
}  // namespace animerun::io
