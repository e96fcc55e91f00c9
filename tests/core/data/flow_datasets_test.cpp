// Flow training sets (layouts built here in each official shape), their checks, kind
// detection, mixtures and the batch loader.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/data/flow_datasets.h"
#include "core/data/flow_loader.h"
#include "core/data/flow_mixture.h"
#include "core/data/synth.h"
#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::data {
namespace {

// A frame whose pixels encode k, so a test can tell which file a sample came from.
void WriteFrame(const fs::path& p, int k, int w = 40, int h = 30) {
  fs::create_directories(p.parent_path());
  io::WriteImage(p, cv::Mat(h, w, CV_8UC3, cv::Scalar(k * 10 % 256, 7, 200)));
}
void WriteFlowFile(const fs::path& p, float u, int w = 40, int h = 30) {
  fs::create_directories(p.parent_path());
  const std::string ext = p.extension().string();
  if (ext == ".pfm") {
    io::WritePfm(p, cv::Mat(h, w, CV_32FC3, cv::Scalar(u, -1, 0)));
  } else {
    io::WriteFlo(p, cv::Mat(h, w, CV_32FC2, cv::Scalar(u, -1)));
  }
}
float FirstU(const FlowPairFiles& f) {
  cv::Mat flow, valid;
  ReadTrainingFlow(f.flow, &flow, &valid);
  return flow.at<cv::Vec2f>(0, 0)[0];
}
int FrameId(const fs::path& p) { return io::ReadImageRgb(p).at<cv::Vec3b>(0, 0)[0] / 10; }

TEST(FlowSets, FlyingThingsPairsAsTheOfficialLoop) {
  const fs::path root = test::ScratchDir("things");
  for (const char* seq : {"A/0000", "B/0001"}) {
    for (int i = 0; i < 4; ++i) {
      WriteFrame(root / "frames_cleanpass/TRAIN" / seq / "left" / (std::to_string(6 + i) + ".png"), i);
      WriteFlowFile(root / "optical_flow/TRAIN" / seq / "into_future/left" /
                        ("OpticalFlowIntoFuture_000" + std::to_string(6 + i) + "_L.pfm"),
                    100.f + i);
      WriteFlowFile(root / "optical_flow/TRAIN" / seq / "into_past/left" /
                        ("OpticalFlowIntoPast_000" + std::to_string(6 + i) + "_L.pfm"),
                    200.f + i);
    }
  }
  EXPECT_EQ(DetectFlowSetKind(root), "things");
  const FlowSet set = IndexFlowSet({"things", root});
  ASSERT_EQ(set.pairs.size(), 12u);  // 2 sequences x 2 directions x (4 - 1)
  // into_future first: (img[i], img[i+1]) with flow[i]; then into_past: (img[i+1], img[i]) with flow[i+1].
  EXPECT_EQ(FrameId(set.pairs[0].image1), 0);
  EXPECT_EQ(FrameId(set.pairs[0].image2), 1);
  EXPECT_EQ(FirstU(set.pairs[0]), 100.f);
  EXPECT_EQ(FrameId(set.pairs[6].image1), 1);
  EXPECT_EQ(FrameId(set.pairs[6].image2), 0);
  EXPECT_EQ(FirstU(set.pairs[6]), 201.f);
  const FlowSetReport r = CheckFlowSet(set);
  EXPECT_EQ(r.pairs, 12);
  EXPECT_EQ(r.resolutions.at("40x30"), 12);
  EXPECT_THROW(IndexFlowSet({"things-final", root}), Error);  // no frames_finalpass
}

TEST(FlowSets, SintelAndCreativeFlow) {
  const fs::path sintel = test::ScratchDir("sintel");
  for (int i = 1; i <= 4; ++i) WriteFrame(sintel / "training/clean/alley_1" / ("frame_000" + std::to_string(i) + ".png"), i);
  for (int i = 1; i <= 3; ++i) WriteFlowFile(sintel / "training/flow/alley_1" / ("frame_000" + std::to_string(i) + ".flo"), i);
  for (int i = 1; i <= 3; ++i) WriteFrame(sintel / "training/clean/broken" / ("frame_000" + std::to_string(i) + ".png"), i);
  WriteFlowFile(sintel / "training/flow/broken/frame_0001.flo", 1);
  EXPECT_EQ(DetectFlowSetKind(sintel), "sintel");
  const FlowSet s = IndexFlowSet({"sintel", sintel});
  ASSERT_EQ(s.pairs.size(), 3u);
  EXPECT_EQ(FirstU(s.pairs[2]), 3.f);
  ASSERT_EQ(s.problems.size(), 1u);  // "broken": 3 frames, 1 flow
  EXPECT_NE(s.problems[0].find("broken"), std::string::npos);

  const fs::path cf = test::ScratchDir("creative");
  const fs::path scene = cf / "test/eve.Brutal-37-26/cam0";
  for (int i = 1; i <= 3; ++i) {
    WriteFrame(scene / "renders/composite/style.toon.pen" / ("frame00000" + std::to_string(i) + ".png"), i);
    WriteFrame(scene / "renders/composite/style.flat.ink" / ("frame00000" + std::to_string(i) + ".png"), 20 + i);
  }
  for (int i = 1; i <= 2; ++i) WriteFlowFile(scene / "metadata/flow" / ("flow00000" + std::to_string(i) + ".flo"), i);
  EXPECT_EQ(DetectFlowSetKind(cf), "creative");
  const FlowSet c = IndexFlowSet({"creative", cf});
  ASSERT_EQ(c.pairs.size(), 2u);
  EXPECT_EQ(FrameId(c.pairs[0].image1), 21);  // the first style in sorted order: style.flat.ink
  EXPECT_EQ(FirstU(c.pairs[1]), 2.f);
}

TEST(FlowSets, PairsListsTextAndJson) {
  const fs::path dir = test::ScratchDir("pairs");
  WriteFrame(dir / "a.png", 1);
  WriteFrame(dir / "b.png", 2);
  WriteFlowFile(dir / "ab.flo", 4.f);
  io::WriteNpyMat(dir / "ab_flow.npy", cv::Mat(30, 40, CV_32FC2, cv::Scalar(6, 1)));
  cv::Mat kvalid(30, 40, CV_8UC1, cv::Scalar(1));
  kvalid.at<uint8_t>(2, 3) = 0;
  io::WriteKittiFlow(dir / "ab_kitti.png", cv::Mat(30, 40, CV_32FC2, cv::Scalar(3, 2)), kvalid);
  cv::Mat mask(30, 40, CV_8UC1, cv::Scalar(255));
  mask.at<uint8_t>(4, 5) = 0;
  io::WriteImage(dir / "mask.png", mask);
  std::ofstream(dir / "list.txt") << "# my footage\n\na.png b.png ab.flo\na.png\tb.png\tab_flow.npy\tmask.png\n"
                                  << (dir / "a.png").string() << " b.png ab_kitti.png\n";
  EXPECT_EQ(DetectFlowSetKind(dir / "list.txt"), "pairs");
  const FlowSet t = IndexFlowSet({"pairs", dir / "list.txt"});
  ASSERT_EQ(t.pairs.size(), 3u);
  EXPECT_EQ(t.pairs[1].valid, dir / "mask.png");
  const FlowSample npy = LoadFlowSample(t.pairs[1]);
  EXPECT_EQ(npy.flow.at<cv::Vec2f>(0, 0)[0], 6.f);
  EXPECT_EQ(npy.valid.at<uint8_t>(4, 5), 0);
  EXPECT_EQ(cv::countNonZero(npy.valid), 30 * 40 - 1);
  const FlowSample kitti = LoadFlowSample(t.pairs[2]);
  EXPECT_EQ(kitti.valid.at<uint8_t>(2, 3), 0);
  EXPECT_EQ(kitti.flow.at<cv::Vec2f>(0, 0)[1], 2.f);
  EXPECT_EQ(CheckFlowSet(t).pairs, 3);

  std::ofstream(dir / "list.json") << R"([{"image1": "a.png", "image2": "b.png", "flow": "ab.flo"}, ["b.png", "a.png", "ab.flo"]])";
  EXPECT_EQ(IndexFlowSet({"pairs", dir / "list.json"}).pairs.size(), 2u);

  std::ofstream(dir / "bad.txt") << "a.png b.png\n";
  try {
    IndexFlowSet({"pairs", dir / "bad.txt"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("line 1"), std::string::npos);
  }
}

TEST(FlowSets, ChecksNameTheBadFile) {
  const fs::path dir = test::ScratchDir("check");
  WriteFrame(dir / "a.png", 1);
  WriteFrame(dir / "b.png", 2);
  WriteFrame(dir / "small.png", 2, 20, 30);
  WriteFlowFile(dir / "ok.flo", 1.f);
  WriteFlowFile(dir / "cut.flo", 1.f);
  fs::resize_file(dir / "cut.flo", 100);  // truncated
  FlowSet set;
  set.kind = "pairs";
  set.root = dir;
  set.pairs = {{dir / "a.png", dir / "b.png", dir / "ok.flo", {}}, {dir / "a.png", dir / "b.png", dir / "cut.flo", {}}};
  try {
    CheckFlowSet(set);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cut.flo"), std::string::npos) << what;
    EXPECT_NE(what.find("1 of 2"), std::string::npos) << what;
  }
  set.pairs = {{dir / "a.png", dir / "small.png", dir / "ok.flo", {}}};
  EXPECT_THROW(CheckFlowSet(set), Error);
  set.pairs = {{dir / "a.png", dir / "missing.png", dir / "ok.flo", {}}};
  try {
    CheckFlowSet(set);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos);
  }
  EXPECT_THROW(IndexFlowSet({"sintel", dir / "nowhere"}), Error);
}

TEST(FlowSets, NonFiniteFlowIsUnsupervised) {
  const fs::path dir = test::ScratchDir("nan");
  cv::Mat f(30, 40, CV_32FC2, cv::Scalar(1, 1));
  f.at<cv::Vec2f>(3, 4) = cv::Vec2f(std::nanf(""), 0.f);
  f.at<cv::Vec2f>(5, 6) = cv::Vec2f(0.f, 1500.f);
  io::WriteFlo(dir / "f.flo", f);
  cv::Mat flow, valid;
  ReadTrainingFlow(dir / "f.flo", &flow, &valid);
  EXPECT_EQ(valid.at<uint8_t>(3, 4), 0);
  EXPECT_EQ(flow.at<cv::Vec2f>(3, 4)[0], 0.f);
  EXPECT_EQ(valid.at<uint8_t>(5, 6), 0);
  EXPECT_EQ(cv::countNonZero(valid), 30 * 40 - 2);
}

TEST(FlowSets, AnimeRunFromTheGenerator) {
  const fs::path root = test::ScratchDir("anime");
  SynthOptions o;
  o.split = "train";
  o.scenes = 2;
  o.frames = 3;
  o.width = 96;
  o.height = 64;
  GenerateSynthDataset(root, o);
  EXPECT_EQ(DetectFlowSetKind(root), "anime");
  const FlowSet set = IndexFlowSet({"anime", root, "train", "original"});
  EXPECT_EQ(set.pairs.size(), 4u);
  EXPECT_EQ(CheckFlowSet(set).resolutions.at("96x64"), 4);
  EXPECT_THROW(IndexFlowSet({"anime", root, "train", "color_9"}), Error);
}

TEST(FlowMixture, SpecsParseAndFormat) {
  const auto e = ParseFlowMixture("anime:200, things@/data/Flying:Things3D:1,pairs@my list.txt");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].kind, "anime");
  EXPECT_EQ(e[0].repeat, 200);
  EXPECT_EQ(e[1].path, "/data/Flying:Things3D");
  EXPECT_EQ(e[1].repeat, 1);
  EXPECT_EQ(e[2].path, "my list.txt");
  EXPECT_EQ(ParseFlowMixture(FormatFlowMixture(e)).size(), 3u);
  EXPECT_EQ(FormatFlowMixture(e), "anime:200,things@/data/Flying:Things3D:1,pairs@my list.txt:1");
  for (const char* bad : {"", "anime:0", "anime:x", "kitti:1", "anime,,things", "things@:2"})
    EXPECT_THROW(ParseFlowMixture(bad), Error) << bad;
}

FlowSet FakeSet(const std::string& kind, int n) {
  FlowSet s;
  s.kind = kind;
  for (int i = 0; i < n; ++i) s.pairs.push_back({kind + std::to_string(i), "", "", {}});
  return s;
}

TEST(FlowMixture, EpochsVisitEveryRepeatedPairOnceInASeededOrder) {
  const FlowMixture m({FakeSet("anime", 5), FakeSet("things", 7)}, {3, 1});
  EXPECT_EQ(m.epoch_size(), 22);
  const int batch = 4;
  EXPECT_EQ(m.BatchesPerEpoch(batch), 5);  // drop_last: 20 of 22 per epoch
  std::map<std::string, int> seen;
  int anime = 0;
  for (int64_t s = 0; s < 5; ++s)
    for (int b = 0; b < batch; ++b) {
      ++seen[m.Sample(9, s, b, batch).image1.string()];
      anime += m.SetOf(9, s, b, batch) == 0;
    }
  // 15 anime and 7 things positions, two dropped: each anime pair about 3 times.
  EXPECT_GE(anime, 13);
  for (const auto& [name, count] : seen) EXPECT_LE(count, name.rfind("anime", 0) == 0 ? 3 : 1) << name;
  // A function of (seed, step, b): same answer in any order, another seed differs.
  EXPECT_EQ(m.Sample(9, 7, 1, batch).image1, m.Sample(9, 7, 1, batch).image1);
  int differ = 0;
  for (int64_t s = 0; s < 5; ++s) differ += m.Sample(9, s, 0, batch).image1 != m.Sample(10, s, 0, batch).image1;
  EXPECT_GT(differ, 0);
  EXPECT_THROW(FlowMixture({FakeSet("anime", 3)}, {1}).BatchesPerEpoch(4), Error);
}

TEST(FlowLoader, BatchesAreAFunctionOfSeedAndStep) {
  const fs::path root = test::ScratchDir("loader");
  SynthOptions so;
  so.split = "train";
  so.scenes = 2;
  so.frames = 4;
  so.width = 96;
  so.height = 64;
  GenerateSynthDataset(root, so);
  auto mixture = std::make_shared<FlowMixture>(std::vector<FlowSet>{IndexFlowSet({"anime", root, "train"})},
                                               std::vector<int>{2});
  FlowLoaderOptions o;
  o.batch = 3;
  o.augment.crop_height = 32;
  o.augment.crop_width = 48;
  o.workers = 3;
  FlowBatchLoader a(mixture, o);
  o.workers = 1;
  o.first = 1;
  o.count = 2;  // rank 1 of a split batch
  FlowBatchLoader b(mixture, o);
  for (int64_t step : {0, 1, 2, 5, 3}) {
    const auto whole = a.Get(step);
    const auto share = b.Get(step);
    ASSERT_EQ(whole.size(), 3u);
    ASSERT_EQ(share.size(), 2u);
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(cv::norm(whole[i + 1].image1, share[i].image1, cv::NORM_L1), 0.0);
      EXPECT_EQ(cv::norm(whole[i + 1].flow, share[i].flow, cv::NORM_L1), 0.0);
    }
    const FlowSample again = a.MakeSample(step, 0);
    EXPECT_EQ(cv::norm(whole[0].image2, again.image2, cv::NORM_L1), 0.0);
    EXPECT_EQ(whole[0].image1.size(), cv::Size(48, 32));
  }
}

TEST(FlowLoader, LoadErrorsReachTheCaller) {
  const fs::path dir = test::ScratchDir("loader_err");
  WriteFrame(dir / "a.png", 1);
  WriteFrame(dir / "b.png", 1);
  std::ofstream(dir / "bad.flo") << "not a flow";
  FlowSet s;
  s.kind = "pairs";
  s.pairs = {{dir / "a.png", dir / "b.png", dir / "bad.flo", {}}};
  FlowLoaderOptions o;
  o.batch = 1;
  o.augment.crop_height = 16;
  o.augment.crop_width = 16;
  FlowBatchLoader loader(std::make_shared<FlowMixture>(std::vector<FlowSet>{s}, std::vector<int>{1}), o);
  try {
    loader.Get(0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.flo"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace animerun::data
