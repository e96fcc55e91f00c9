// Recolouring cuts into a new Frame_Anime pass: per-material colours consistent across a
// cut, line pixels untouched (LineArea, then contour, then dark pixels), the draw order
// documented in docs/palette.md, overwrite refusal, cancellation without partial passes.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "core/data/animerun_dataset.h"
#include "core/data/synth.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/palette/recolor.h"
#include "core/palette/sampler.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::palette {
namespace {

namespace fs = std::filesystem;

const cv::Vec3b kA(230, 180, 40), kB(60, 140, 220), kC(250, 250, 250), kLine(0, 0, 0), kRed(200, 0, 0);

// 12x8 frame: left half A, right half B, a white box, a black line column at x = 6 and a
// red pixel at (1, 1) that the LineArea marks as line (a non-dark "line" pixel).
cv::Mat CutFrame(int t) {
  cv::Mat m(8, 12, CV_8UC3);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 12; ++x) m.at<cv::Vec3b>(y, x) = x < 6 ? kA : kB;
  m(cv::Rect(8 + (t % 2), 2, 2, 2)).setTo(cv::Scalar(kC[0], kC[1], kC[2]));
  m.col(6).setTo(cv::Scalar(0, 0, 0));
  m.at<cv::Vec3b>(1, 1) = kRed;
  return m;
}

PaletteFile Palettes() {
  PaletteFile f;
  PaletteGroup g;
  g.name = "warm";
  g.style = "disney";
  g.colors = {{{255, 0, 0}, 5000}, {{0, 255, 0}, 400}, {{0, 0, 255}, 30}, {{9, 9, 9}, 10}};
  g.pixels = 6000;
  PaletteGroup h = g;
  h.name = "cold";
  h.colors = {{{10, 20, 30}, 900}, {{40, 50, 60}, 800}};
  f.groups = {g, h};
  return f;
}

// <root>/test with cut "a" (3 frames, LineArea for pairs 0 and 1, contours for all) and cut
// "b" (2 frames, no annotations at all).
fs::path MakeDataset(const std::string& name) {
  const fs::path root = test::ScratchDir(name);
  const fs::path split = root / "test";
  for (int t = 0; t < 3; ++t) {
    const std::string stem = "Image000" + std::to_string(t);
    io::WriteImage(split / "Frame_Anime/a/original" / (stem + ".png"), CutFrame(t));
    cv::Mat contour(8, 12, CV_8UC1, cv::Scalar(255));
    contour.col(6).setTo(0);
    contour.at<uint8_t>(5, 2) = 0;  // marks an A pixel as line in the contour drawing only
    io::WriteImage(split / "contour/a" / (stem + ".png"), contour);
    if (t < 2) {
      cv::Mat area(8, 12, CV_8UC1, cv::Scalar(1));
      area.col(6).setTo(0);
      area.at<uint8_t>(1, 1) = 0;
      io::WriteNpyMat(split / "LineArea/a" / (stem + ".npy"), area);
    }
  }
  for (int t = 0; t < 2; ++t) io::WriteImage(split / "Frame_Anime/b/original" / ("000" + std::to_string(t) + ".png"), CutFrame(t));
  return root;
}

RecolorOptions Options(uint64_t seed) {
  RecolorOptions o;
  o.pass = "color_2";
  o.group = "warm";
  o.seed = seed;
  return o;
}

TEST(Recolor, PassNamesAndOptions) {
  EXPECT_TRUE(IsColorPassName("color_1"));
  EXPECT_TRUE(IsColorPassName("color_12"));
  EXPECT_FALSE(IsColorPassName("color_0"));
  EXPECT_FALSE(IsColorPassName("color_01"));
  EXPECT_FALSE(IsColorPassName("original"));
  EXPECT_FALSE(IsColorPassName("color_"));
  EXPECT_FALSE(IsColorPassName("color_1x"));
  RecolorOptions o = Options(1);
  EXPECT_NO_THROW(o.Check());
  o.group.clear();
  EXPECT_THROW(o.Check(), Error);
  o.random_group = true;
  EXPECT_NO_THROW(o.Check());
  o.pass = "original";
  EXPECT_THROW(o.Check(), Error);
}

TEST(Recolor, PlanFollowsTheDocumentedDraw) {
  MaterialCounts counts = {{PackRgb(kB[0], kB[1], kB[2]), 40}, {PackRgb(kA[0], kA[1], kA[2]), 40}, {PackRgb(5, 5, 5), 2}};
  const PaletteFile pal = Palettes();
  const ScenePlan plan = PlanRecolor("a", counts, pal, Options(11));
  EXPECT_EQ(plan.group, "warm");
  EXPECT_EQ(plan.scene_seed, SceneSeed(11, "a"));
  // Materials in ascending packed order, one draw each from PyRandom(SceneSeed).
  ASSERT_EQ(plan.materials, (std::vector<uint32_t>{PackRgb(5, 5, 5), PackRgb(kB[0], kB[1], kB[2]), PackRgb(kA[0], kA[1], kA[2])}));
  PyRandom rng(SceneSeed(11, "a"));
  const SamplingTable table = MakeSamplingTable(*pal.Find("warm"));
  EXPECT_EQ(table.excluded, 1u);  // {9,9,9} with N = 10
  for (uint32_t m : plan.materials) EXPECT_EQ(*plan.map.Find(m), table.colors[DrawIndex(table, &rng)]);

  // min_material_pixels: the 2-pixel colour follows its nearest material (B is nearer to
  // (5,5,5) than A? no: A=(230,180,40), B=(60,140,220); B is nearer).
  RecolorOptions o = Options(11);
  o.min_material_pixels = 10;
  const ScenePlan p2 = PlanRecolor("a", counts, pal, o);
  EXPECT_EQ(p2.materials.size(), 2u);
  EXPECT_EQ(p2.fringe, 1u);
  EXPECT_EQ(*p2.map.Find(PackRgb(5, 5, 5)), *p2.map.Find(PackRgb(kB[0], kB[1], kB[2])));

  // Random group: rng.choice over drawable groups comes first in the stream.
  o = Options(11);
  o.group.clear();
  o.random_group = true;
  PyRandom r2(SceneSeed(11, "a"));
  EXPECT_EQ(PlanRecolor("a", counts, pal, o).group, ChooseGroup(pal, &r2).name);
  o = Options(11);
  o.group = "nope";
  EXPECT_THROW(PlanRecolor("a", counts, pal, o), Error);
}

TEST(Recolor, ApplyWritesAConsistentPass) {
  const fs::path root = MakeDataset("palette_recolor_apply");
  double last = -1;
  JobContext progress([&](double f, const std::string&) { last = f; });
  const ApplyReport rep = ApplyPalettes(root, Palettes(), Options(5), &progress);
  EXPECT_DOUBLE_EQ(last, 1.0);
  ASSERT_EQ(rep.scenes.size(), 2u);
  const SceneReport& a = rep.scenes[0];
  EXPECT_EQ(a.scene, "a");
  EXPECT_EQ(a.frames, 3u);
  EXPECT_EQ(a.line_sources[int(LineSource::kLineArea)], 2u);
  EXPECT_EQ(a.line_sources[int(LineSource::kContour)], 1u);  // last frame: no LineArea
  EXPECT_EQ(rep.scenes[1].line_sources[int(LineSource::kDark)], 2u);
  // Materials of a: A, B, white, and in the last frame (contour rule) the red pixel.
  EXPECT_EQ(a.materials, 4u);

  std::map<uint32_t, uint32_t> seen;  // old -> new over the whole cut
  std::set<Rgb> palette_colors = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  for (int t = 0; t < 3; ++t) {
    const std::string stem = "Image000" + std::to_string(t) + ".png";
    const cv::Mat in = io::ReadImageRgb(root / "test/Frame_Anime/a/original" / stem);
    const cv::Mat out = io::ReadImageRgb(root / "test/Frame_Anime/a/color_2" / stem);
    ASSERT_EQ(out.size(), in.size());
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 12; ++x) {
        const cv::Vec3b i = in.at<cv::Vec3b>(y, x), o = out.at<cv::Vec3b>(y, x);
        const bool line_area = t < 2 && (x == 6 || (y == 1 && x == 1));
        const bool contour_line = t == 2 && (x == 6 || (y == 5 && x == 2));
        if (line_area || contour_line) {
          EXPECT_EQ(o, i) << t << " " << x << "," << y;
          continue;
        }
        EXPECT_TRUE(palette_colors.count(Rgb{o[0], o[1], o[2]})) << t << " " << x << "," << y;
        const uint32_t from = PackRgb(i[0], i[1], i[2]), to = PackRgb(o[0], o[1], o[2]);
        auto it = seen.emplace(from, to).first;
        EXPECT_EQ(it->second, to) << "material changed colour within the cut";
      }
  }
  EXPECT_EQ(seen.size(), 4u);
  // The original pass is untouched and no temporary folder is left.
  EXPECT_EQ(io::ReadImageRgb(root / "test/Frame_Anime/a/original/Image0000.png").at<cv::Vec3b>(0, 0), kA);
  EXPECT_EQ(ListSubdirs(root / "test/Frame_Anime/a"), (std::vector<std::string>{"color_2", "original"}));
  // The dataset reader sees the new pass.
  data::DatasetOptions dopt;
  dopt.pass = "color_2";
  const auto ds = data::AnimeRunDataset::Open(root, dopt);
  ASSERT_NE(ds.FindScene("a"), nullptr);
  EXPECT_EQ(ds.FindScene("a")->frames.size(), 3u);
}

TEST(Recolor, SameSeedSameOutputAndScenesAreIndependent) {
  const fs::path r1 = MakeDataset("palette_recolor_det1"), r2 = MakeDataset("palette_recolor_det2");
  ApplyPalettes(r1, Palettes(), Options(9));
  RecolorOptions only_b = Options(9);
  only_b.scenes = {"b"};
  const ApplyReport rep = ApplyPalettes(r2, Palettes(), only_b);
  ASSERT_EQ(rep.scenes.size(), 1u);
  EXPECT_FALSE(fs::exists(r2 / "test/Frame_Anime/a/color_2"));
  for (const char* f : {"0000.png", "0001.png"}) {
    const cv::Mat x = io::ReadImageRgb(r1 / "test/Frame_Anime/b/color_2" / f);
    const cv::Mat y = io::ReadImageRgb(r2 / "test/Frame_Anime/b/color_2" / f);
    EXPECT_EQ(cv::norm(x, y, cv::NORM_INF), 0.0);
  }
  RecolorOptions missing = Options(9);
  missing.scenes = {"zzz"};
  EXPECT_THROW(ApplyPalettes(r2, Palettes(), missing), Error);
}

TEST(Recolor, RefusesExistingPassUnlessOverwrite) {
  const fs::path root = MakeDataset("palette_recolor_overwrite");
  const fs::path pass = root / "test/Frame_Anime/a/color_2";
  io::WriteImage(pass / "stale.png", CutFrame(0));
  try {
    ApplyPalettes(root, Palettes(), Options(1));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(pass.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos);
  }
  // Nothing was written for b either (the check happens before any writing).
  EXPECT_FALSE(fs::exists(root / "test/Frame_Anime/b/color_2"));
  RecolorOptions o = Options(1);
  o.overwrite = true;
  ApplyPalettes(root, Palettes(), o);
  EXPECT_FALSE(fs::exists(pass / "stale.png"));
  EXPECT_TRUE(fs::exists(pass / "Image0002.png"));
}

TEST(Recolor, CancelLeavesNoPartialPass) {
  // Reports: cut a counts 3 frames (1-3) and writes 3 (4-6), then cut b (7-10).
  for (int cancel_at : {2, 5, 8}) {
    const fs::path root = MakeDataset("palette_recolor_cancel");
    JobContext* self = nullptr;
    int reports = 0;
    JobContext job([&](double, const std::string&) {
      if (++reports == cancel_at) self->RequestCancel();
    });
    self = &job;
    EXPECT_THROW(ApplyPalettes(root, Palettes(), Options(1), &job), Cancelled);
    const std::vector<std::string> only_original = {"original"}, done = {"color_2", "original"};
    EXPECT_EQ(ListSubdirs(root / "test/Frame_Anime/a"), cancel_at < 7 ? only_original : done) << cancel_at;
    EXPECT_EQ(ListSubdirs(root / "test/Frame_Anime/b"), only_original) << cancel_at;
    if (cancel_at >= 7) {
      EXPECT_EQ(ListFiles(root / "test/Frame_Anime/a/color_2", {".png"}).size(), 3u);
    }
  }
}

TEST(Recolor, CorruptMasksNameTheFile) {
  const fs::path root = MakeDataset("palette_recolor_corrupt");
  const fs::path bad = root / "test/LineArea/a/Image0001.npy";
  {
    std::ofstream(bad, std::ios::binary | std::ios::trunc) << "\x93NUMPY\x01\x00garbage";
  }
  try {
    ApplyPalettes(root, Palettes(), Options(1));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Image0001.npy"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ListSubdirs(root / "test/Frame_Anime/a"), (std::vector<std::string>{"original"}));
  // A mask of the wrong size.
  io::WriteNpyMat(bad, cv::Mat(3, 3, CV_8UC1, cv::Scalar(1)));
  try {
    ApplyPalettes(root, Palettes(), Options(1));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("differs from the frame"), std::string::npos) << e.what();
  }
}

TEST(Recolor, SynthDatasetSegmentsStayUniform) {
  // On generated AnimeRun data: every segment that is one flat colour in `original` stays
  // one flat colour in the new pass, and LineArea line pixels are unchanged.
  const fs::path root = test::ScratchDir("palette_recolor_synth");
  data::SynthOptions so;
  so.scenes = 1;
  so.frames = 3;
  so.width = 128;
  so.height = 96;
  so.color_passes = 1;
  data::GenerateSynthDataset(root, so);
  RecolorOptions o = Options(4);
  o.pass = "color_2";
  const ApplyReport rep = ApplyPalettes(root, Palettes(), o);
  ASSERT_EQ(rep.scenes.size(), 1u);
  EXPECT_GT(rep.scenes[0].materials, 2u);
  const auto ds = data::AnimeRunDataset::Open(root);
  const data::Scene& scene = ds.scenes()[0];
  ASSERT_FALSE(scene.pairs.empty());
  for (const data::FramePair& p : scene.pairs) {
    const cv::Mat in = io::ReadImageRgb(p.image1);
    const cv::Mat out = io::ReadImageRgb(p.image1.parent_path().parent_path() / "color_2" / p.image1.filename());
    const cv::Mat seg = io::ReadNpyLabels(p.segment1);
    const cv::Mat area = io::ReadNpyMask(p.line_area);
    std::map<int, std::set<uint32_t>> in_colors, out_colors;
    for (int y = 0; y < in.rows; ++y)
      for (int x = 0; x < in.cols; ++x) {
        const cv::Vec3b i = in.at<cv::Vec3b>(y, x), o2 = out.at<cv::Vec3b>(y, x);
        if (area.at<uint8_t>(y, x) == 0) {
          EXPECT_EQ(i, o2);
          continue;
        }
        in_colors[seg.at<int>(y, x)].insert(PackRgb(i[0], i[1], i[2]));
        out_colors[seg.at<int>(y, x)].insert(PackRgb(o2[0], o2[1], o2[2]));
      }
    int uniform = 0;
    for (const auto& kv : in_colors) {
      if (kv.second.size() != 1) continue;
      ++uniform;
      EXPECT_EQ(out_colors[kv.first].size(), 1u) << "segment " << kv.first;
    }
    EXPECT_GT(uniform, 0);
  }
}

}  // namespace
}  // namespace animerun::palette
