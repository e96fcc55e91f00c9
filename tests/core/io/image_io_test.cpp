#include "core/io/image_io.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "core/io/io_test_util.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::io {
namespace {
namespace fs = std::filesystem;
using namespace test_util;

// A small RGB test card with distinct channel values.
cv::Mat Card(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x) = {uint8_t(10 * x), uint8_t(20 * y + 3), uint8_t(200 - x - y)};
  return m;
}

int MaxDiff(const cv::Mat& a, const cv::Mat& b) { return static_cast<int>(cv::norm(a, b, cv::NORM_INF)); }

TEST(ImageIo, RgbPngRoundTripStoresBgrOnDisk) {
  const auto dir = test::ScratchDir("io_img_rgb");
  const cv::Mat rgb = Card(9, 7);
  WriteImage(dir / "c.png", rgb);
  EXPECT_EQ(MaxDiff(ReadImageRgb(dir / "c.png"), rgb), 0);
  // On disk the colours are RGB for any other program: OpenCV's imread returns them as BGR.
  const cv::Mat bgr = cv::imread((dir / "c.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(bgr.type(), CV_8UC3);
  const cv::Vec3b px = rgb.at<cv::Vec3b>(4, 5);
  EXPECT_EQ(bgr.at<cv::Vec3b>(4, 5), cv::Vec3b(px[2], px[1], px[0]));
  EXPECT_FALSE(fs::exists(dir / ("c.png.tmp-" + std::to_string(::getpid()))));
}

TEST(ImageIo, GreyAndColourConversions) {
  const auto dir = test::ScratchDir("io_img_grey");
  cv::Mat g(4, 5, CV_8UC1);
  cv::randu(g, 0, 256);
  WriteImage(dir / "g.png", g);
  EXPECT_EQ(MaxDiff(ReadImageGray(dir / "g.png"), g), 0);
  const cv::Mat as_rgb = ReadImageRgb(dir / "g.png");
  ASSERT_EQ(as_rgb.type(), CV_8UC3);
  std::vector<cv::Mat> ch;
  cv::split(as_rgb, ch);
  for (const auto& c : ch) EXPECT_EQ(MaxDiff(c, g), 0);

  // Pure red / pure blue: grey uses the luma weights on the right channels.
  cv::Mat rb(1, 2, CV_8UC3);
  rb.at<cv::Vec3b>(0, 0) = {255, 0, 0};
  rb.at<cv::Vec3b>(0, 1) = {0, 0, 255};
  WriteImage(dir / "rb.png", rb);
  const cv::Mat gr = ReadImageGray(dir / "rb.png");
  ASSERT_EQ(gr.type(), CV_8UC1);
  EXPECT_NEAR(gr.at<uint8_t>(0, 0), 76, 1);  // 0.299 * 255
  EXPECT_NEAR(gr.at<uint8_t>(0, 1), 29, 1);  // 0.114 * 255
}

TEST(ImageIo, RgbaAnd16BitInputs) {
  const auto dir = test::ScratchDir("io_img_rgba");
  cv::Mat rgba(3, 3, CV_8UC4, cv::Scalar(10, 20, 30, 128));
  WriteImage(dir / "a.png", rgba);
  const cv::Mat raw = cv::imread((dir / "a.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(raw.type(), CV_8UC4);
  EXPECT_EQ(raw.at<cv::Vec4b>(1, 1), cv::Vec4b(30, 20, 10, 128));
  const cv::Mat rgb = ReadImageRgb(dir / "a.png");
  ASSERT_EQ(rgb.type(), CV_8UC3);
  EXPECT_EQ(rgb.at<cv::Vec3b>(2, 2), cv::Vec3b(10, 20, 30));

  cv::Mat w16(2, 2, CV_16UC3, cv::Scalar(257 * 30, 257 * 20, 65535));  // BGR on disk
  ASSERT_TRUE(cv::imwrite((dir / "w16.png").string(), w16));
  EXPECT_EQ(ReadImageRgb(dir / "w16.png").at<cv::Vec3b>(0, 0), cv::Vec3b(255, 20, 30));
  // Scaled with rounding (1000 / 257 = 3.9 -> 4), not truncated to the high byte (3).
  cv::Mat g16(2, 2, CV_16UC1, cv::Scalar(1000));
  ASSERT_TRUE(cv::imwrite((dir / "g16.png").string(), g16));
  EXPECT_EQ(ReadImageGray(dir / "g16.png").at<uint8_t>(1, 1), 4);
}

TEST(ImageIo, OtherFormats) {
  const auto dir = test::ScratchDir("io_img_fmt");
  const cv::Mat rgb = Card(16, 16);
  WriteImage(dir / "c.bmp", rgb);
  EXPECT_EQ(MaxDiff(ReadImageRgb(dir / "c.bmp"), rgb), 0);
  // JPEG is lossy: a flat colour comes back close, and not channel-swapped.
  const cv::Mat flat(16, 16, CV_8UC3, cv::Scalar(200, 40, 90));
  WriteImage(dir / "c.JPG", flat);
  EXPECT_LT(MaxDiff(ReadImageRgb(dir / "c.JPG"), flat), 6);
}

TEST(ImageIo, WriteRefusesBadInput) {
  const auto dir = test::ScratchDir("io_img_wbad");
  const cv::Mat rgb = Card(4, 4);
  ExpectFileError([&] { WriteImage(dir / "x.xyz", rgb); }, dir / "x.xyz", "extension");
  ExpectFileError([&] { WriteImage(dir / "x.flo", rgb); }, dir / "x.flo", "extension");
  ExpectFileError([&] { WriteImage(dir / "noext", rgb); }, dir / "noext", "extension");
  ExpectFileError([&] { WriteImage(dir / "f.png", cv::Mat(2, 2, CV_32FC3)); }, dir / "f.png");
  ExpectFileError([&] { WriteImage(dir / "e.png", cv::Mat()); }, dir / "e.png", "empty");
  ExpectFileError([&] { WriteImage(dir / "a.jpg", cv::Mat(2, 2, CV_8UC4)); }, dir / "a.jpg", "alpha");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(ImageIo, ReadRefusesMissingCorruptAndTruncated) {
  const auto dir = test::ScratchDir("io_img_rbad");
  ExpectFileError([&] { ReadImageRgb(dir / "missing.png"); }, dir / "missing.png");
  ExpectFileError([&] { ReadImageGray(dir / "missing.png"); }, dir / "missing.png");
  WriteRaw(dir / "junk.png", Bytes{'h', 'e', 'l', 'l', 'o'});
  ExpectFileError([&] { ReadImageRgb(dir / "junk.png"); }, dir / "junk.png", "decodable");
  WriteRaw(dir / "empty.png", {});
  ExpectFileError([&] { ReadImageRgb(dir / "empty.png"); }, dir / "empty.png");

  WriteImage(dir / "good.png", Card(24, 16));
  const Bytes good = ReadRaw(dir / "good.png");
  for (size_t cut : {size_t{1}, size_t{8}, size_t{20}, size_t{40}, good.size() / 2, good.size() - 13}) {
    const auto p = dir / "cut.png";
    WriteRaw(p, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
    SCOPED_TRACE(cut);
    ExpectFileError([&] { ReadImageRgb(p); }, p);
  }
}

}  // namespace
}  // namespace animerun::io
