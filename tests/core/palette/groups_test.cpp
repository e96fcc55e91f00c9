// Group building: one group per folder, and the histogram clustering that suggests groups.
#include <gtest/gtest.h>

#include "core/io/image_io.h"
#include "core/palette/groups.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::palette {
namespace {

namespace fs = std::filesystem;

// A 16x12 frame: mostly `base`, with a small patch of `accent`; jitter varies the shade.
cv::Mat Frame(cv::Vec3b base, cv::Vec3b accent, int jitter) {
  cv::Mat m(12, 16, CV_8UC3, cv::Scalar(base[0], base[1], base[2]));
  m(cv::Rect(jitter % 8, 2, 5, 4)).setTo(cv::Scalar(accent[0], accent[1], accent[2]));
  return m;
}

TEST(PaletteGroups, HistogramFeatureIsNormalisedWithRightBins) {
  cv::Mat m(2, 2, CV_8UC3, cv::Scalar(255, 0, 0));
  m.at<cv::Vec3b>(0, 0) = {0, 0, 31};
  const auto h = HistogramFeature(m, 8);
  ASSERT_EQ(h.size(), 512u);
  EXPECT_FLOAT_EQ(h[(7 * 8 + 0) * 8 + 0], 0.75f);  // 255 -> level 7
  EXPECT_FLOAT_EQ(h[0], 0.25f);                    // 31 -> level 0 (v * 8 / 256)
  double sum = 0;
  for (float v : h) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_EQ(HistogramFeature(m, 16).size(), 4096u);
}

TEST(PaletteGroups, ChiSquareDistanceProperties) {
  std::vector<float> a = {0.5f, 0.5f, 0.f}, b = {0.f, 0.f, 1.f}, c = {0.5f, 0.f, 0.5f};
  EXPECT_DOUBLE_EQ(ChiSquareDistance(a, a), 0.0);
  EXPECT_NEAR(ChiSquareDistance(a, b), 1.0, 1e-9);  // disjoint
  EXPECT_NEAR(ChiSquareDistance(a, c), ChiSquareDistance(c, a), 1e-12);
  EXPECT_GT(ChiSquareDistance(a, c), 0.0);
  EXPECT_LT(ChiSquareDistance(a, c), 1.0);
}

TEST(PaletteGroups, ClusteringSeparatesStylesAndIsDeterministic) {
  // Two "styles": warm pastel frames and dark cold frames, interleaved.
  std::vector<std::vector<float>> feats;
  std::vector<int> truth;
  for (int i = 0; i < 12; ++i) {
    const bool warm = (i % 3) != 0;
    const cv::Mat m = warm ? Frame({250, 200, 180}, {240, 120, uint8_t(100 + 4 * i)}, i)
                           : Frame({20, 30, 90}, {40, 140, uint8_t(200 - 3 * i)}, i);
    feats.push_back(HistogramFeature(m, 8));
    truth.push_back(warm ? 1 : 0);
  }
  const Clustering c = ClusterHistograms(feats, 2, 5);
  ASSERT_EQ(c.k, 2);
  // Clusters are numbered by first frame: frame 0 (cold) is cluster 0.
  for (size_t i = 0; i < truth.size(); ++i) EXPECT_EQ(c.assignment[i], truth[i]) << i;
  for (uint64_t seed : {0ull, 1ull, 99ull}) {
    const Clustering a = ClusterHistograms(feats, 3, seed), b = ClusterHistograms(feats, 3, seed);
    EXPECT_EQ(a.assignment, b.assignment);
    EXPECT_EQ(a.cost, b.cost);
  }
  // k above the number of frames is clamped; k = 1 puts everything together.
  EXPECT_EQ(ClusterHistograms({feats[0], feats[1]}, 5, 0).k, 2);
  const Clustering one = ClusterHistograms(feats, 1, 0);
  EXPECT_EQ(one.k, 1);
  for (int a : one.assignment) EXPECT_EQ(a, 0);
  EXPECT_THROW(ClusterHistograms({}, 2, 0), Error);
}

TEST(PaletteGroups, AutoGroupCount) {
  EXPECT_EQ(AutoGroupCount(1), 1);
  EXPECT_EQ(AutoGroupCount(8), 2);
  EXPECT_EQ(AutoGroupCount(50), 5);
  EXPECT_EQ(AutoGroupCount(100000), 8);
}

TEST(PaletteGroups, SuggestFromFilesAndFromFolders) {
  const fs::path dir = test::ScratchDir("palette_groups");
  std::vector<fs::path> files;
  for (int i = 0; i < 6; ++i) {
    const bool warm = i % 2;
    const fs::path sub = dir / (warm ? "warm" : "cold");
    fs::create_directories(sub);
    files.push_back(sub / ("f" + std::to_string(i) + ".png"));
    io::WriteImage(files.back(), warm ? Frame({250, 200, 180}, {240, 120, 100}, i) : Frame({20, 30, 90}, {40, 140, 200}, i));
  }
  SuggestOptions o;
  o.groups = 2;
  o.seed = 3;
  o.style = "japanese";
  JobContext job;
  const PaletteFile s = SuggestGroups(files, o, &job);
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(s.groups[0].name, "group_1");
  EXPECT_EQ(s.groups[0].style, "japanese");
  EXPECT_EQ(s.groups[0].frames, (std::vector<std::string>{files[0].string(), files[2].string(), files[4].string()}));
  EXPECT_EQ(s.groups[1].frames.size(), 3u);
  EXPECT_FALSE(s.groups[0].extracted());
  // A file that is not an image fails with its name.
  EXPECT_THROW(SuggestGroups({dir / "missing.png"}, o), Error);

  const PaletteFile f = GroupsFromFolders({(dir / "cold").string(), (dir / "warm").string(), (dir / "warm/").string()}, "disney");
  ASSERT_EQ(f.groups.size(), 3u);
  EXPECT_EQ(f.groups[0].name, "cold");
  EXPECT_EQ(f.groups[1].name, "warm");
  EXPECT_EQ(f.groups[2].name, "warm-2");
  EXPECT_EQ(f.groups[1].style, "disney");
  EXPECT_EQ(f.groups[1].frames.size(), 3u);
  EXPECT_THROW(GroupsFromFolders({(dir / "cold" / "f0.png").string()}), Error);
}

}  // namespace
}  // namespace animerun::palette
