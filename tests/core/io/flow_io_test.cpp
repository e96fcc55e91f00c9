#include "core/io/flow_io.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
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

// Every prefix of a valid file cut at the given offsets must be refused.
template <typename F>
void ExpectTruncationsFail(const Bytes& good, const fs::path& path, const std::vector<size_t>& cuts, F&& load) {
  for (size_t cut : cuts) {
    ASSERT_LT(cut, good.size());
    WriteRaw(path, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
    SCOPED_TRACE("cut at " + std::to_string(cut));
    ExpectFileError([&] { load(path); }, path);
  }
}

void PutLe32(Bytes& b, const void* v) {
  uint32_t u;
  std::memcpy(&u, v, 4);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(u >> (8 * i)));
}
void PutBe32(Bytes& b, const void* v) {
  uint32_t u;
  std::memcpy(&u, v, 4);
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(u >> (8 * i)));
}
void PutF(Bytes& b, float f) { PutLe32(b, &f); }
void PutI(Bytes& b, int32_t i) { PutLe32(b, &i); }

// A .flo built byte by byte: 3 wide, 2 high, u = x + 10 y, v = -x - 0.5.
Bytes HandFlo() {
  Bytes b = {'P', 'I', 'E', 'H'};
  PutI(b, 3);
  PutI(b, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      PutF(b, static_cast<float>(x + 10 * y));
      PutF(b, -static_cast<float>(x) - 0.5f);
    }
  return b;
}

cv::Mat RampFlow(int w, int h) {
  cv::Mat f(h, w, CV_32FC2);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) f.at<cv::Vec2f>(y, x) = {0.25f * x - 1.5f, -0.125f * y + 3.0f};
  return f;
}

bool BitEqual(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  for (int y = 0; y < a.rows; ++y)
    if (std::memcmp(a.ptr(y), b.ptr(y), a.cols * a.elemSize()) != 0) return false;
  return true;
}

// ---- .flo

TEST(Flo, ReadsHandBuiltBytes) {
  const auto dir = test::ScratchDir("io_flo_hand");
  WriteRaw(dir / "a.flo", HandFlo());
  const cv::Mat f = ReadFlo(dir / "a.flo");
  ASSERT_EQ(f.type(), CV_32FC2);
  ASSERT_EQ(f.cols, 3);
  ASSERT_EQ(f.rows, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      EXPECT_EQ(f.at<cv::Vec2f>(y, x)[0], static_cast<float>(x + 10 * y));
      EXPECT_EQ(f.at<cv::Vec2f>(y, x)[1], -static_cast<float>(x) - 0.5f);
    }
}

TEST(Flo, WriteGivesExactLayoutAndRoundTrips) {
  const auto dir = test::ScratchDir("io_flo_write");
  const Bytes hand = HandFlo();
  WriteRaw(dir / "hand.flo", hand);
  WriteFlo(dir / "out.flo", ReadFlo(dir / "hand.flo"));
  EXPECT_EQ(ReadRaw(dir / "out.flo"), hand);

  cv::Mat f = RampFlow(7, 5);
  f.at<cv::Vec2f>(1, 2)[0] = std::numeric_limits<float>::quiet_NaN();
  f.at<cv::Vec2f>(3, 4)[1] = std::numeric_limits<float>::infinity();
  WriteFlo(dir / "ramp.flo", f);
  EXPECT_EQ(fs::file_size(dir / "ramp.flo"), 12u + 7 * 5 * 8);
  const cv::Mat g = ReadFlo(dir / "ramp.flo");
  EXPECT_TRUE(BitEqual(f, g));  // NaN read back as NaN, bit for bit
  EXPECT_TRUE(std::isnan(g.at<cv::Vec2f>(1, 2)[0]));

  // A non-continuous view (ROI) is written row by row.
  const cv::Mat roi = f(cv::Rect(1, 1, 4, 3));
  ASSERT_FALSE(roi.isContinuous());
  WriteFlo(dir / "roi.flo", roi);
  EXPECT_TRUE(BitEqual(roi.clone(), ReadFlo(dir / "roi.flo")));
  EXPECT_FALSE(fs::exists(dir / ("roi.flo.tmp-" + std::to_string(::getpid()))));
}

TEST(Flo, RefusesBadMagicAndDimensions) {
  const auto dir = test::ScratchDir("io_flo_bad");
  const auto p = dir / "bad.flo";
  Bytes b = HandFlo();
  b[0] = 'X';
  WriteRaw(p, b);
  ExpectFileError([&] { ReadFlo(p); }, p, "magic");

  for (int32_t w : {0, -3, 70000}) {
    Bytes d = {'P', 'I', 'E', 'H'};
    PutI(d, w);
    PutI(d, 2);
    d.resize(d.size() + 48, 0);
    WriteRaw(p, d);
    SCOPED_TRACE(w);
    ExpectFileError([&] { ReadFlo(p); }, p, "dimensions");
  }
  // Huge sides with a small file are refused by the header limits, before any allocation
  // (more in reader_limits_test.cpp).
  Bytes d = {'P', 'I', 'E', 'H'};
  PutI(d, 65536);
  PutI(d, 65536);
  WriteRaw(p, d);
  ExpectFileError([&] { ReadFlo(p); }, p, "dimensions");
}

TEST(Flo, RefusesTruncatedAndTooLongFiles) {
  const auto dir = test::ScratchDir("io_flo_trunc");
  const auto p = dir / "t.flo";
  const Bytes good = HandFlo();
  ExpectTruncationsFail(good, p, {0, 1, 4, 8, 11, 12, 13, 20, good.size() - 1}, [](const fs::path& q) { ReadFlo(q); });
  Bytes longer = good;
  longer.push_back(0);
  WriteRaw(p, longer);
  ExpectFileError([&] { ReadFlo(p); }, p, "extra");
  ExpectFileError([&] { ReadFlo(dir / "missing.flo"); }, dir / "missing.flo");
}

TEST(Flo, WriterRefusesWrongTypes) {
  const auto dir = test::ScratchDir("io_flo_wtype");
  const auto p = dir / "w.flo";
  ExpectFileError([&] { WriteFlo(p, cv::Mat()); }, p);
  ExpectFileError([&] { WriteFlo(p, cv::Mat(2, 2, CV_32FC3, cv::Scalar(0))); }, p);
  ExpectFileError([&] { WriteFlo(p, cv::Mat(2, 2, CV_64FC2, cv::Scalar(0))); }, p);
  EXPECT_FALSE(fs::exists(p));
}

// ---- KITTI PNG

TEST(Kitti, ChannelMappingOfHandMadePng) {
  const auto dir = test::ScratchDir("io_kitti_hand");
  cv::Mat raw(1, 3, CV_16UC3);
  // OpenCV order B, G, R = valid, v, u.
  raw.at<cv::Vec3w>(0, 0) = {1, 32768 + 64, 32768 - 128};  // u=-2, v=1
  raw.at<cv::Vec3w>(0, 1) = {0, 0, 0};                     // invalid
  raw.at<cv::Vec3w>(0, 2) = {1, 65535, 0};
  ASSERT_TRUE(cv::imwrite((dir / "k.png").string(), raw));
  const KittiFlow k = ReadKittiFlow(dir / "k.png");
  ASSERT_EQ(k.flow.type(), CV_32FC2);
  ASSERT_EQ(k.valid.type(), CV_8UC1);
  EXPECT_EQ(k.flow.at<cv::Vec2f>(0, 0), cv::Vec2f(-2.0f, 1.0f));
  EXPECT_EQ(k.valid.at<uint8_t>(0, 0), 1);
  EXPECT_EQ(k.valid.at<uint8_t>(0, 1), 0);
  EXPECT_EQ(k.flow.at<cv::Vec2f>(0, 1), cv::Vec2f(-512.0f, -512.0f));
  EXPECT_EQ(k.flow.at<cv::Vec2f>(0, 2), cv::Vec2f(-512.0f, 32767.0f / 64.0f));
}

TEST(Kitti, RoundTripRoundsClampsAndMarksInvalid) {
  const auto dir = test::ScratchDir("io_kitti_rt");
  cv::Mat f = RampFlow(6, 4);  // multiples of 1/64: exact
  f.at<cv::Vec2f>(0, 1) = {0.3f, -0.3f};            // rounds to 19/64, -19/64
  f.at<cv::Vec2f>(0, 2) = {1000.0f, -1000.0f};      // clamps
  f.at<cv::Vec2f>(0, 3) = {std::nanf(""), 1.0f};    // non-finite -> invalid
  cv::Mat valid(4, 6, CV_8UC1, cv::Scalar(1));
  valid.at<uint8_t>(2, 2) = 0;
  WriteKittiFlow(dir / "f.png", f, valid);

  const cv::Mat raw = cv::imread((dir / "f.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(raw.type(), CV_16UC3);
  EXPECT_EQ(raw.at<cv::Vec3w>(2, 2), cv::Vec3w(0, 0, 0));
  EXPECT_EQ(raw.at<cv::Vec3w>(0, 3), cv::Vec3w(0, 0, 0));
  EXPECT_EQ(raw.at<cv::Vec3w>(0, 2), cv::Vec3w(1, 0, 65535));
  EXPECT_EQ(raw.at<cv::Vec3w>(0, 1), cv::Vec3w(1, 32768 - 19, 32768 + 19));

  const KittiFlow k = ReadKittiFlow(dir / "f.png");
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 6; ++x) {
      const bool inv = (y == 2 && x == 2) || (y == 0 && x == 3);
      EXPECT_EQ(k.valid.at<uint8_t>(y, x), inv ? 0 : 1) << y << "," << x;
      if (inv || (y == 0 && (x == 1 || x == 2))) continue;
      EXPECT_EQ(k.flow.at<cv::Vec2f>(y, x), f.at<cv::Vec2f>(y, x)) << y << "," << x;
    }
  EXPECT_EQ(k.flow.at<cv::Vec2f>(0, 1), cv::Vec2f(19.0f / 64, -19.0f / 64));
  EXPECT_EQ(k.flow.at<cv::Vec2f>(0, 2), cv::Vec2f(32767.0f / 64, -512.0f));

  // Without a mask every finite pixel is valid.
  WriteKittiFlow(dir / "all.png", RampFlow(6, 4));
  EXPECT_EQ(cv::countNonZero(ReadKittiFlow(dir / "all.png").valid), 24);
  EXPECT_EQ(ReadFlowAuto(dir / "all.png").at<cv::Vec2f>(3, 5), RampFlow(6, 4).at<cv::Vec2f>(3, 5));
}

TEST(Kitti, RefusesNon16BitOrWrongChannels) {
  const auto dir = test::ScratchDir("io_kitti_bad");
  ASSERT_TRUE(cv::imwrite((dir / "8bit.png").string(), cv::Mat(3, 3, CV_8UC3, cv::Scalar(1, 2, 3))));
  ExpectFileError([&] { ReadKittiFlow(dir / "8bit.png"); }, dir / "8bit.png", "16-bit");
  ASSERT_TRUE(cv::imwrite((dir / "grey16.png").string(), cv::Mat(3, 3, CV_16UC1, cv::Scalar(7))));
  ExpectFileError([&] { ReadKittiFlow(dir / "grey16.png"); }, dir / "grey16.png", "3 channels");
  ASSERT_TRUE(cv::imwrite((dir / "rgba16.png").string(), cv::Mat(3, 3, CV_16UC4, cv::Scalar(7))));
  ExpectFileError([&] { ReadKittiFlow(dir / "rgba16.png"); }, dir / "rgba16.png", "3 channels");
  WriteRaw(dir / "junk.png", Bytes{'n', 'o', 't', ' ', 'p', 'n', 'g'});
  ExpectFileError([&] { ReadKittiFlow(dir / "junk.png"); }, dir / "junk.png");
  ExpectFileError([&] { ReadKittiFlow(dir / "missing.png"); }, dir / "missing.png");
  ExpectFileError([&] { WriteKittiFlow(dir / "w.png", RampFlow(3, 3), cv::Mat(2, 3, CV_8UC1)); }, dir / "w.png");
}

TEST(Kitti, RefusesTruncatedPng) {
  const auto dir = test::ScratchDir("io_kitti_trunc");
  WriteKittiFlow(dir / "good.png", RampFlow(20, 12));
  const Bytes good = ReadRaw(dir / "good.png");
  ASSERT_GT(good.size(), 60u);
  ExpectTruncationsFail(good, dir / "cut.png", {0, 4, 8, 30, 50, good.size() / 2, good.size() - 13},
                        [](const fs::path& q) { ReadKittiFlow(q); });
}

// ---- PFM

Bytes PfmHeader(const std::string& h) { return Bytes(h.begin(), h.end()); }

TEST(Pfm, ReadsLittleEndianColourBottomUp) {
  const auto dir = test::ScratchDir("io_pfm_le");
  // 2 wide, 3 high, 3 channels; stored rows are bottom-up: file row r is image row 2 - r.
  Bytes b = PfmHeader("PF\n2 3\n-1.0\n");
  for (int r = 0; r < 3; ++r)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 3; ++c) PutF(b, static_cast<float>(100 * (2 - r) + 10 * x + c));
  WriteRaw(dir / "a.pfm", b);
  const cv::Mat m = ReadPfm(dir / "a.pfm");
  ASSERT_EQ(m.type(), CV_32FC3);
  ASSERT_EQ(m.size(), cv::Size(2, 3));
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(m.at<cv::Vec3f>(y, x)[c], 100.0f * y + 10 * x + c);
  const cv::Mat f = ReadPfmFlow(dir / "a.pfm");
  ASSERT_EQ(f.type(), CV_32FC2);
  EXPECT_EQ(f.at<cv::Vec2f>(1, 1), cv::Vec2f(110.0f, 111.0f));
  EXPECT_EQ(ReadFlowAuto(dir / "a.pfm").at<cv::Vec2f>(2, 0), cv::Vec2f(200.0f, 201.0f));
}

TEST(Pfm, ReadsBigEndianGrey) {
  const auto dir = test::ScratchDir("io_pfm_be");
  Bytes b = PfmHeader("Pf\n3 2\n1.0\n");
  const float vals[2][3] = {{1.5f, -2.0f, 3.25f}, {4.0f, 5.0f, -6.5f}};  // image rows
  for (int r = 1; r >= 0; --r)
    for (int x = 0; x < 3; ++x) PutBe32(b, &vals[r][x]);
  WriteRaw(dir / "g.pfm", b);
  const cv::Mat m = ReadPfm(dir / "g.pfm");
  ASSERT_EQ(m.type(), CV_32FC1);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) EXPECT_EQ(m.at<float>(y, x), vals[y][x]);
  ExpectFileError([&] { ReadPfmFlow(dir / "g.pfm"); }, dir / "g.pfm", "grey");
}

TEST(Pfm, WriteRoundTrip) {
  const auto dir = test::ScratchDir("io_pfm_rt");
  cv::Mat c3(4, 5, CV_32FC3);
  cv::randu(c3, -100, 100);
  WritePfm(dir / "c.pfm", c3);
  EXPECT_TRUE(BitEqual(c3, ReadPfm(dir / "c.pfm")));
  cv::Mat c1(3, 2, CV_32FC1);
  cv::randu(c1, -1, 1);
  WritePfm(dir / "g.pfm", c1);
  EXPECT_TRUE(BitEqual(c1, ReadPfm(dir / "g.pfm")));
  ExpectFileError([&] { WritePfm(dir / "x.pfm", cv::Mat(2, 2, CV_32FC2)); }, dir / "x.pfm");
}

TEST(Pfm, RefusesBadHeadersAndSizes) {
  const auto dir = test::ScratchDir("io_pfm_bad");
  const auto p = dir / "b.pfm";
  const Bytes data(2 * 2 * 4, 0);
  for (const char* h : {"P6\n2 2\n-1\n", "Pf\nx 2\n-1\n", "Pf\n0 2\n-1\n", "Pf\n2 -2\n-1\n", "Pf\n2 2\n0\n",
                        "Pf\n2 2\nabc\n", "Pf\n2 2\n-1x\n", "Pf\n99999 2\n-1\n", "Pf 2 2"}) {
    Bytes b = PfmHeader(h);
    b.insert(b.end(), data.begin(), data.end());
    WriteRaw(p, b);
    SCOPED_TRACE(h);
    ExpectFileError([&] { ReadPfm(p); }, p);
  }
  Bytes good = PfmHeader("Pf\n2 2\n-1\n");
  good.insert(good.end(), data.begin(), data.end());
  WriteRaw(p, good);
  EXPECT_NO_THROW(ReadPfm(p));
  Bytes longer = good;
  longer.push_back(0);
  WriteRaw(p, longer);
  ExpectFileError([&] { ReadPfm(p); }, p, "extra");
  ExpectTruncationsFail(good, p, {0, 1, 2, 3, 5, 8, 9, 10, 11, good.size() - 1}, [](const fs::path& q) { ReadPfm(q); });
}

TEST(FlowAuto, DispatchesByExtension) {
  const auto dir = test::ScratchDir("io_flow_auto");
  WriteRaw(dir / "a.FLO", HandFlo());
  EXPECT_EQ(ReadFlowAuto(dir / "a.FLO").at<cv::Vec2f>(1, 2), cv::Vec2f(12.0f, -2.5f));
  WriteRaw(dir / "a.txt", HandFlo());
  ExpectFileError([&] { ReadFlowAuto(dir / "a.txt"); }, dir / "a.txt", "extension");
  ExpectFileError([&] { ReadFlowAuto(dir / "none.flo"); }, dir / "none.flo");
}

}  // namespace
}  // namespace animerun::io
