// Palette extraction against a hand-computed case: 16 levels per channel (bin = v >> 4),
// counts over the whole group, strict 0.05% threshold, mean or centre colour, order.
#include <gtest/gtest.h>

#include <fstream>

#include <opencv2/imgproc.hpp>

#include "core/io/image_io.h"
#include "core/palette/extract.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::palette {
namespace {

namespace fs = std::filesystem;

// Fills the first n still-unfilled pixels (row-major from *cursor) of img with rgb.
void Paint(cv::Mat* img, int* cursor, int n, uint8_t r, uint8_t g, uint8_t b) {
  for (int i = 0; i < n; ++i, ++*cursor) {
    cv::Vec3b& p = img->at<cv::Vec3b>(*cursor / img->cols, *cursor % img->cols);
    p = cv::Vec3b(r, g, b);
  }
}

// The hand case (2000 pixels over two 20x50 frames; threshold: count * 1e6 > 500 * 2000,
// i.e. count > 1):
//   1000 x (200,100,50) + 500 x (207,111,63): one bin (12,6,3), count 1500,
//        mean (202.33, 103.67, 54.33) -> rounded half up (202, 104, 54); centre (200,104,56)
//   497 x (0,0,0):      bin (0,0,0), count 497
//   2 x (255,255,255):  count 2 > 1: kept (one pixel in each frame)
//   1 x (128,128,128):  count 1, not > 1: dropped (exactly 0.05%)
std::vector<cv::Mat> HandFrames() {
  cv::Mat a(20, 50, CV_8UC3), b(20, 50, CV_8UC3);
  int ca = 0, cb = 0;
  Paint(&a, &ca, 700, 200, 100, 50);
  Paint(&a, &ca, 299, 0, 0, 0);
  Paint(&a, &ca, 1, 255, 255, 255);
  Paint(&b, &cb, 300, 200, 100, 50);
  Paint(&b, &cb, 500, 207, 111, 63);
  Paint(&b, &cb, 198, 0, 0, 0);
  Paint(&b, &cb, 1, 255, 255, 255);
  Paint(&b, &cb, 1, 128, 128, 128);
  EXPECT_EQ(ca, 1000);
  EXPECT_EQ(cb, 1000);
  return {a, b};
}

TEST(PaletteExtract, PackedBinIsHighNibbles) {
  EXPECT_EQ(PackedBin(0, 0, 0), 0);
  EXPECT_EQ(PackedBin(15, 15, 15), 0);
  EXPECT_EQ(PackedBin(16, 0, 0), 256);
  EXPECT_EQ(PackedBin(255, 255, 255), 4095);
  EXPECT_EQ(PackedBin(207, 111, 63), (12 << 8) | (6 << 4) | 3);
}

TEST(PaletteExtract, HandComputedGroupMeanRule) {
  const PaletteGroup g = ExtractPalette(HandFrames(), ExtractOptions{});
  EXPECT_EQ(g.pixels, 2000);
  ASSERT_EQ(g.colors.size(), 3u);
  EXPECT_EQ(g.colors[0].rgb, (Rgb{202, 104, 54}));
  EXPECT_EQ(g.colors[0].count, 1500);
  EXPECT_EQ(g.colors[1].rgb, (Rgb{0, 0, 0}));
  EXPECT_EQ(g.colors[1].count, 497);
  EXPECT_EQ(g.colors[2].rgb, (Rgb{255, 255, 255}));
  EXPECT_EQ(g.colors[2].count, 2);
}

TEST(PaletteExtract, HandComputedGroupCentreRule) {
  ExtractOptions o;
  o.rgb_rule = RgbRule::kCentre;
  const PaletteGroup g = ExtractPalette(HandFrames(), o);
  ASSERT_EQ(g.colors.size(), 3u);
  EXPECT_EQ(g.colors[0].rgb, (Rgb{200, 104, 56}));
  EXPECT_EQ(g.colors[1].rgb, (Rgb{8, 8, 8}));
  EXPECT_EQ(g.colors[2].rgb, (Rgb{248, 248, 248}));
}

TEST(PaletteExtract, ThresholdIsOverTheWholeGroup) {
  // Alone, frame b has 1000 pixels: the single grey pixel passes (1 > 0.5) there.
  const PaletteGroup alone = ExtractPalette({HandFrames()[1]}, ExtractOptions{});
  bool has_grey = false;
  for (const auto& c : alone.colors) has_grey |= c.rgb == Rgb{128, 128, 128};
  EXPECT_TRUE(has_grey);
  // A threshold of 0 keeps every colour present.
  ExtractOptions all;
  all.min_ppm = 0;
  EXPECT_EQ(ExtractPalette(HandFrames(), all).colors.size(), 4u);
}

TEST(PaletteExtract, MeanRoundsHalfUpAndTiesSortByRgb) {
  cv::Mat img(1, 4, CV_8UC3);
  img.at<cv::Vec3b>(0, 0) = {200, 16, 0};
  img.at<cv::Vec3b>(0, 1) = {201, 17, 1};   // same bin: mean (200.5, 16.5, 0.5) -> (201, 17, 1)
  img.at<cv::Vec3b>(0, 2) = {40, 0, 0};
  img.at<cv::Vec3b>(0, 3) = {41, 0, 0};     // bin (2,0,0) count 2 too: ties by rgb -> (41,0,0) first
  const PaletteGroup g = ExtractPalette({img}, ExtractOptions{});
  ASSERT_EQ(g.colors.size(), 2u);
  EXPECT_EQ(g.colors[0].rgb, (Rgb{41, 0, 0}));
  EXPECT_EQ(g.colors[1].rgb, (Rgb{201, 17, 1}));
}

TEST(PaletteExtract, ParallelEqualsSerial) {
  cv::Mat big(300, 257, CV_8UC3);
  cv::randu(big, cv::Scalar::all(0), cv::Scalar::all(256));
  cv::Mat second(70, 33, CV_8UC3);
  cv::randu(second, cv::Scalar::all(0), cv::Scalar::all(64));
  ExtractOptions one, four;
  one.threads = 1;
  four.threads = 4;
  one.min_ppm = four.min_ppm = 100;  // count > ~8: most of the ~19-pixel random bins pass
  const PaletteGroup a = ExtractPalette({big, second}, one), b = ExtractPalette({big, second}, four);
  ASSERT_EQ(a.colors.size(), b.colors.size());
  ASSERT_GT(a.colors.size(), 3000u);
  for (size_t i = 0; i < a.colors.size(); ++i) {
    EXPECT_EQ(a.colors[i].rgb, b.colors[i].rgb);
    EXPECT_EQ(a.colors[i].count, b.colors[i].count);
  }
  int64_t sum = 0;
  for (const auto& c : a.colors) sum += c.count;
  EXPECT_LE(sum, a.pixels);
  EXPECT_EQ(a.pixels, 300 * 257 + 70 * 33);
}

TEST(PaletteExtract, RejectsNonRgbAndBadOptions) {
  EXPECT_THROW(ExtractPalette({cv::Mat(4, 4, CV_8UC1, cv::Scalar(0))}, ExtractOptions{}), Error);
  ExtractOptions o;
  o.min_ppm = -1;
  EXPECT_THROW(o.Check(), Error);
  EXPECT_EQ(ParseRgbRule("centre"), RgbRule::kCentre);
  EXPECT_THROW(ParseRgbRule("median"), Error);
}

TEST(PaletteExtract, FromFilesAndFolders) {
  const fs::path dir = test::ScratchDir("palette_extract");
  const auto frames = HandFrames();
  fs::create_directories(dir / "atd" / "t1");
  io::WriteImage(dir / "atd" / "t1" / "frame1.png", frames[0]);
  io::WriteImage(dir / "atd" / "t1" / "frame2.png", frames[1]);
  std::ofstream(dir / "atd" / "t1" / "notes.txt") << "not an image";
  const auto files = ExpandFrameInputs({(dir / "atd").string()});
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "frame1.png");
  const PaletteGroup g = ExtractPaletteFromFiles("g", "disney", files, ExtractOptions{});
  EXPECT_EQ(g.name, "g");
  EXPECT_EQ(g.style, "disney");
  EXPECT_EQ(g.frames.size(), 2u);
  EXPECT_EQ(g.pixels, 2000);
  ASSERT_EQ(g.colors.size(), 3u);
  EXPECT_EQ(g.colors[0].rgb, (Rgb{202, 104, 54}));

  // A single file input stays as given.
  EXPECT_EQ(ExpandFrameInputs({(dir / "atd" / "t1" / "frame2.png").string()}).size(), 1u);
  EXPECT_THROW(ExpandFrameInputs({(dir / "nope").string()}), Error);
  fs::create_directories(dir / "empty");
  EXPECT_THROW(ExpandFrameInputs({(dir / "empty").string()}), Error);
}

TEST(PaletteExtract, CorruptAndTruncatedFramesNameTheFile) {
  const fs::path dir = test::ScratchDir("palette_extract_bad");
  io::WriteImage(dir / "ok.png", HandFrames()[0]);
  std::ofstream(dir / "garbage.png") << "definitely not a png";
  {
    // A PNG cut in half.
    std::ifstream in(dir / "ok.png", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir / "truncated.png", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  for (const char* bad : {"garbage.png", "truncated.png"}) {
    try {
      ExtractPaletteFromFiles("g", "", {dir / "ok.png", dir / bad}, ExtractOptions{});
      ADD_FAILURE() << bad << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(PaletteExtract, CancelStops) {
  const fs::path dir = test::ScratchDir("palette_extract_cancel");
  io::WriteImage(dir / "a.png", HandFrames()[0]);
  JobContext job;
  job.RequestCancel();
  EXPECT_THROW(ExtractPaletteFromFiles("g", "", {dir / "a.png"}, ExtractOptions{}, &job), Cancelled);
}

}  // namespace
}  // namespace animerun::palette
