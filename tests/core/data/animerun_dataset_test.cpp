// The AnimeRun reader on generated data with faults put in: mismatched counts and sizes
// are reported (scene and file named) and the rest stays usable; corrupt files fail
// LoadPair with the file named.
#include "core/data/animerun_dataset.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/data/synth.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "test_paths.h"

namespace animerun::data {
namespace {

namespace fs = std::filesystem;

// A fresh copy of a small generated dataset (3 scenes x 4 frames) to break things in.
fs::path FreshCopy(const std::string& name) {
  static const fs::path base = [] {
    const fs::path dir = test::SharedScratchDir("dataset_base");
    SynthOptions o;
    o.scenes = 3;
    o.frames = 4;
    o.width = 96;
    o.height = 64;
    o.seed = 3;
    GenerateSynthDataset(dir, o);
    return dir;
  }();
  const fs::path dir = test::ScratchDir("dataset_" + name);
  fs::copy(base, dir, fs::copy_options::recursive);
  return dir;
}

bool AnyProblemMentions(const AnimeRunDataset& ds, const std::string& a, const std::string& b = "") {
  for (const auto& p : ds.AllProblems())
    if (p.find(a) != std::string::npos && p.find(b) != std::string::npos) return true;
  return false;
}

std::vector<int> PairIndices(const Scene& s) {
  std::vector<int> out;
  for (const auto& p : s.pairs) out.push_back(p.index);
  return out;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

TEST(AnimeRunDataset, IndexesScenesAndPairsInSortedOrder) {
  const fs::path root = FreshCopy("clean");
  const auto ds = AnimeRunDataset::Open(root);
  EXPECT_EQ(ds.root(), root / "test");
  ASSERT_EQ(ds.scenes().size(), 3u);
  EXPECT_TRUE(ds.AllProblems().empty()) << Joined(ds.AllProblems());
  EXPECT_EQ(ds.AllPairs().size(), 9u);
  const Scene* s = ds.FindScene("synth_001");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ds.FindScene("nope"), nullptr);
  ASSERT_EQ(s->pairs.size(), 3u);
  const FramePair& p = s->pairs[1];
  EXPECT_EQ(p.index, 1);
  EXPECT_EQ(p.name1, "Image0001");
  EXPECT_EQ(p.name2, "Image0002");
  EXPECT_EQ(p.flow_forward.filename(), "Image0001.flo");
  EXPECT_EQ(p.flow_backward.filename(), "Image0002.flo");  // named after t+1, maps t+1 -> t
  EXPECT_EQ(p.match_backward.filename(), "Image0002.json");
  EXPECT_EQ(p.segment2.filename(), "Image0002.npy");
  EXPECT_EQ(p.line_area.filename(), "Image0001.npy");
  EXPECT_EQ(p.contour1.parent_path(), root / "test" / "contour" / "synth_001");
  // The split folder itself works as the root too.
  DatasetOptions o;
  o.split = "";
  EXPECT_EQ(AnimeRunDataset::Open(root / "test", o).AllPairs().size(), 9u);
}

TEST(AnimeRunDataset, MissingFolderOrFrameAnimeThrows) {
  const fs::path root = FreshCopy("no_frames");
  EXPECT_THROW(AnimeRunDataset::Open(root / "nowhere"), Error);
  fs::remove_all(root / "test" / "Frame_Anime");
  try {
    AnimeRunDataset::Open(root);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Frame_Anime"), std::string::npos) << e.what();
  }
  DatasetOptions bad;
  bad.pass = "";
  EXPECT_THROW(bad.Check(), Error);
}

TEST(AnimeRunDataset, MissingForwardFlowIsReportedAndOtherPairsKept) {
  const fs::path root = FreshCopy("missing_flow");
  fs::remove(root / "test/Flow/synth_000/forward/Image0001.flo");  // the middle one
  const auto ds = AnimeRunDataset::Open(root);
  EXPECT_TRUE(AnyProblemMentions(ds, "synth_000", "Flow/synth_000/forward")) << Joined(ds.AllProblems());
  // Matched by name: pairs 0 and 2 keep their own flows, pair 1 is dropped.
  const Scene* s = ds.FindScene("synth_000");
  EXPECT_EQ(PairIndices(*s), (std::vector<int>{0, 2}));
  EXPECT_EQ(s->pairs[1].flow_forward.filename(), "Image0002.flo");
  for (const std::string name : {"synth_001", "synth_002"}) {
    EXPECT_EQ(ds.FindScene(name)->pairs.size(), 3u);
    EXPECT_TRUE(ds.FindScene(name)->problems.empty());
  }
  for (const auto& p : ds.AllPairs()) EXPECT_NO_THROW(LoadPair(p));
}

TEST(AnimeRunDataset, CountMismatchWithUnknownNamesFallsBackToPosition) {
  const fs::path root = FreshCopy("renamed");
  const fs::path dir = root / "test/Flow/synth_002/forward";
  fs::remove(dir / "Image0002.flo");
  fs::rename(dir / "Image0000.flo", dir / "a.flo");
  fs::rename(dir / "Image0001.flo", dir / "b.flo");
  const auto ds = AnimeRunDataset::Open(root);
  EXPECT_TRUE(AnyProblemMentions(ds, "synth_002", "2 files for 3 pairs")) << Joined(ds.AllProblems());
  const Scene* s = ds.FindScene("synth_002");
  EXPECT_EQ(PairIndices(*s), (std::vector<int>{0, 1}));
  EXPECT_EQ(s->pairs[0].flow_forward.filename(), "a.flo");
}

TEST(AnimeRunDataset, FlowOfTheWrongSizeIsReportedByName) {
  const fs::path root = FreshCopy("flow_size");
  const fs::path bad = root / "test/Flow/synth_001/backward/Image0003.flo";
  io::WriteFlo(bad, cv::Mat(10, 12, CV_32FC2, cv::Scalar(1, 2)));
  const auto ds = AnimeRunDataset::Open(root);
  EXPECT_TRUE(AnyProblemMentions(ds, "synth_001", "Flow/synth_001/backward/Image0003.flo")) << Joined(ds.AllProblems());
  EXPECT_TRUE(AnyProblemMentions(ds, "Image0003.flo", "12x10")) << Joined(ds.AllProblems());
  EXPECT_EQ(PairIndices(*ds.FindScene("synth_001")), (std::vector<int>{0, 1}));
  EXPECT_EQ(ds.AllPairs().size(), 8u);
  // Without size checks the reader does not look inside, and LoadPair names the file.
  DatasetOptions o;
  o.check_sizes = false;
  const auto loose = AnimeRunDataset::Open(root, o);
  const FramePair& p = loose.FindScene("synth_001")->pairs.at(2);
  try {
    LoadPair(p);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Image0003.flo"), std::string::npos) << e.what();
  }
}

TEST(AnimeRunDataset, TruncatedFlowIsReported) {
  const fs::path root = FreshCopy("flow_trunc");
  const fs::path f = root / "test/Flow/synth_000/forward/Image0000.flo";
  fs::resize_file(f, fs::file_size(f) / 2);
  const auto ds = AnimeRunDataset::Open(root);
  EXPECT_TRUE(AnyProblemMentions(ds, "Flow/synth_000/forward/Image0000.flo", "truncated")) << Joined(ds.AllProblems());
  EXPECT_EQ(PairIndices(*ds.FindScene("synth_000")), (std::vector<int>{1, 2}));
}

TEST(AnimeRunDataset, MissingMaskFolderIsFinePartialOneIsNot) {
  const fs::path root = FreshCopy("masks");
  fs::remove_all(root / "test/UnmatchedForward/synth_000");
  fs::remove(root / "test/LineArea/synth_001/Image0002.npy");
  const auto ds = AnimeRunDataset::Open(root);
  const Scene* s0 = ds.FindScene("synth_000");
  EXPECT_TRUE(s0->problems.empty()) << Joined(s0->problems);
  ASSERT_EQ(s0->pairs.size(), 3u);
  EXPECT_TRUE(s0->pairs[0].unmatched_forward.empty());
  const PairData d = LoadPair(s0->pairs[0]);
  EXPECT_TRUE(d.unmatched_forward.empty());
  EXPECT_FALSE(d.line_area.empty());
  EXPECT_TRUE(AnyProblemMentions(ds, "synth_001", "LineArea/synth_001")) << Joined(ds.AllProblems());
  EXPECT_EQ(PairIndices(*ds.FindScene("synth_001")), (std::vector<int>{0, 1}));
}

TEST(AnimeRunDataset, FrameOfAnotherSizeDropsItsPairs) {
  const fs::path root = FreshCopy("frame_size");
  io::WriteImage(root / "test/Frame_Anime/synth_002/original/Image0001.png", cv::Mat(32, 48, CV_8UC3, cv::Scalar(1, 2, 3)));
  const auto ds = AnimeRunDataset::Open(root);
  EXPECT_TRUE(AnyProblemMentions(ds, "Frame_Anime/synth_002/original/Image0001.png", "48x32")) << Joined(ds.AllProblems());
  EXPECT_EQ(PairIndices(*ds.FindScene("synth_002")), (std::vector<int>{2}));
}

TEST(AnimeRunDataset, ContourCountMismatchIsReported) {
  const fs::path root = FreshCopy("contour");
  fs::remove(root / "test/contour/synth_000/Image0003.png");
  const auto ds = AnimeRunDataset::Open(root);
  EXPECT_TRUE(AnyProblemMentions(ds, "synth_000", "contour/synth_000: 3 files for 4 frames")) << Joined(ds.AllProblems());
  EXPECT_EQ(PairIndices(*ds.FindScene("synth_000")), (std::vector<int>{0, 1}));
}

TEST(AnimeRunDataset, LoadPairNamesTheFileThatDisagrees) {
  const fs::path root = FreshCopy("load");
  const auto ds = AnimeRunDataset::Open(root);
  const FramePair p = ds.FindScene("synth_000")->pairs[0];
  auto expect_error_naming = [&](const fs::path& file) {
    try {
      LoadPair(p);
      ADD_FAILURE() << "expected Error for " << file;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(file.filename().string()), std::string::npos) << e.what();
    }
  };
  const auto seg = io::ReadNpy(p.segment2);
  // Segment map of another size.
  io::WriteNpyMat(p.segment2, cv::Mat(5, 7, CV_32SC1, cv::Scalar(0)));
  expect_error_naming(p.segment2);
  io::WriteNpy(p.segment2, seg);
  // Truncated mask.
  const auto mask = ReadFileBytes(p.unmatched_forward);
  WriteFileAtomic(p.unmatched_forward, std::vector<uint8_t>(mask.begin(), mask.begin() + mask.size() / 2));
  expect_error_naming(p.unmatched_forward);
  WriteFileAtomic(p.unmatched_forward, mask);
  // A match pointing past the other frame's segments.
  const auto json = ReadFileBytes(p.match_forward);
  std::vector<int> m = io::ReadMatchJson(p.match_forward);
  m[0] = 100000;
  io::WriteMatchJson(p.match_forward, m);
  expect_error_naming(p.match_forward);
  WriteFileAtomic(p.match_forward, json);
  // Corrupt image.
  const auto png = ReadFileBytes(p.image2);
  WriteFileAtomic(p.image2, std::string("not a png"));
  expect_error_naming(p.image2);
  WriteFileAtomic(p.image2, png);
  EXPECT_NO_THROW(LoadPair(p));
}

TEST(AnimeRunDataset, PlainNumberedFramesSortLikeTheOfficialGlob) {
  // A hand-made scene: frames 0003, 0001, 0002 (created out of order) and one flow per pair.
  const fs::path root = test::ScratchDir("dataset_plain");
  const fs::path split = root / "train";
  for (const char* n : {"0003", "0001", "0002"}) {
    io::WriteImage(split / "Frame_Anime/s/original" / (std::string(n) + ".png"), cv::Mat(8, 10, CV_8UC3, cv::Scalar(9, 9, 9)));
  }
  for (const char* n : {"0002", "0001"}) io::WriteFlo(split / "Flow/s/forward" / (std::string(n) + ".flo"), cv::Mat(8, 10, CV_32FC2, cv::Scalar(0, 0)));
  DatasetOptions o;
  o.split = "train";
  const auto ds = AnimeRunDataset::Open(root, o);
  EXPECT_TRUE(ds.AllProblems().empty()) << Joined(ds.AllProblems());
  const auto pairs = ds.AllPairs();
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].name1, "0001");
  EXPECT_EQ(pairs[0].name2, "0002");
  EXPECT_EQ(pairs[1].name1, "0002");
  EXPECT_EQ(pairs[1].flow_forward.filename(), "0002.flo");
  EXPECT_TRUE(pairs[0].segment1.empty());
  const PairData d = LoadPair(pairs[1]);
  EXPECT_EQ(d.flow_forward.size(), cv::Size(10, 8));
  EXPECT_TRUE(d.match_forward.empty());
  // A scene with a single frame has no pairs and says so.
  io::WriteImage(split / "Frame_Anime/t/original/0001.png", cv::Mat(8, 10, CV_8UC3, cv::Scalar(9, 9, 9)));
  const auto ds2 = AnimeRunDataset::Open(root, o);
  EXPECT_TRUE(AnyProblemMentions(ds2, "t: Frame_Anime/t/original", "1 frame")) << Joined(ds2.AllProblems());
  EXPECT_EQ(ds2.AllPairs().size(), 2u);
}

TEST(AnimeRunDataset, ReportsProgressAndHonoursCancel) {
  const fs::path root = FreshCopy("progress");
  double last = -1;
  JobContext job([&](double f, const std::string&) { last = f; });
  AnimeRunDataset::Open(root, {}, &job);
  EXPECT_DOUBLE_EQ(last, 1.0);
  JobContext cancelled;
  cancelled.RequestCancel();
  EXPECT_THROW(AnimeRunDataset::Open(root, {}, &cancelled), Cancelled);
}

}  // namespace
}  // namespace animerun::data
