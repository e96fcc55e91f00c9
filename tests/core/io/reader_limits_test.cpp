// The size limits of every core reader (docs/fuzzing.md): a hostile header cannot make a
// reader allocate more than the limits say, files above the limits are refused before they
// are read, JSON nesting and repeated keys are refused, and the in-memory Decode* entries
// (the fuzz targets' way in) agree with the file readers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/io/flow_io.h"
#include "core/io/image_io.h"
#include "core/io/io_test_util.h"
#include "core/io/match_json.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/json_text.h"
#include "test_paths.h"

namespace animerun::io {
namespace {
namespace fs = std::filesystem;
using namespace test_util;

void PutLe(Bytes& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i < 8 ? v >> (8 * i) : 0));
}
void PutBe(Bytes& b, uint64_t v, int n) {
  for (int i = n; i-- > 0;) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Runs f and expects animerun::Error whose message starts with "origin: " and holds what.
template <typename F>
void ExpectRefused(F&& f, const std::string& origin, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "accepted; expected '" << what << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(origin + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "expected '" << what << "' in: " << msg;
  }
}

Bytes FloHeader(int32_t w, int32_t h) {
  Bytes b = {'P', 'I', 'E', 'H'};
  PutLe(b, static_cast<uint32_t>(w), 4);
  PutLe(b, static_cast<uint32_t>(h), 4);
  return b;
}

TEST(ReaderLimits, FloRefusesHugeHeadersBeforeAllocating) {
  // 100000 x 100000 (the example), a side over the limit, and 20000 x 20000 (each
  // side allowed, 4e8 pixels are not): refused by the header, with 12 bytes of file.
  for (auto [w, h] : {std::pair{100000, 100000}, std::pair{70000, 1}, std::pair{20000, 20000}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    const Bytes b = FloHeader(w, h);
    ExpectRefused([&] { DecodeFlo(b.data(), b.size(), "h.flo"); }, "h.flo", "dimensions");
  }
  // 16384 x 16384 is within the limits: then the size check refuses the short file.
  const Bytes ok = FloHeader(16384, 16384);
  ExpectRefused([&] { DecodeFlo(ok.data(), ok.size(), "h.flo"); }, "h.flo", "truncated");
  static_assert(kMaxFlowPixels == 16384LL * 16384, "documented limit");
}

TEST(ReaderLimits, FloDecodeEqualsReadAndEncodeIsExact) {
  const auto dir = test::ScratchDir("limits_flo");
  cv::Mat f(3, 5, CV_32FC2);
  cv::randu(f, -30.f, 30.f);
  WriteFlo(dir / "a.flo", f);
  const Bytes bytes = ReadRaw(dir / "a.flo");
  const cv::Mat d = DecodeFlo(bytes.data(), bytes.size(), "mem");
  EXPECT_EQ(cv::norm(d, ReadFlo(dir / "a.flo"), cv::NORM_INF), 0.0);
  EXPECT_EQ(EncodeFlo(d, "mem"), bytes);
}

TEST(ReaderLimits, PfmRefusesHugeHeadersBeforeAllocating) {
  for (const std::string header : {"PF\n100000 100000\n-1\n", "Pf\n20000 20000\n-1\n", "PF\n999999999 1\n-1\n"}) {
    SCOPED_TRACE(header);
    const Bytes b(header.begin(), header.end());
    ExpectRefused([&] { DecodePfm(b.data(), b.size(), "h.pfm"); }, "h.pfm", "dimensions");
  }
  // The scale parses in any locale (from_chars), and a bad one is refused.
  const std::string good = "Pf\n1 1\n-1.0\n" + std::string(4, '\0');
  EXPECT_EQ(DecodePfm(reinterpret_cast<const uint8_t*>(good.data()), good.size(), "g.pfm").total(), 1u);
  const std::string bad = "Pf\n1 1\n-1,0\n" + std::string(4, '\0');
  ExpectRefused([&] { DecodePfm(reinterpret_cast<const uint8_t*>(bad.data()), bad.size(), "b.pfm"); }, "b.pfm",
                "scale");
}

TEST(ReaderLimits, NpyRefusesHugeShapesAndHeaders) {
  auto npy = [](const std::string& header, int major = 1) {
    Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
    PutLe(b, header.size(), major == 1 ? 2 : 4);
    b.insert(b.end(), header.begin(), header.end());
    return b;
  };
  const Bytes huge = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (100000, 100000), }\n");
  ExpectRefused([&] { DecodeNpy(huge.data(), huge.size(), "h.npy"); }, "h.npy", "too large");
  // A header longer than 64 KiB (version 2 allows 4 GiB) is refused by its length field.
  Bytes long_header = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0};
  PutLe(long_header, 1u << 20, 4);
  ExpectRefused([&] { DecodeNpy(long_header.data(), long_header.size(), "l.npy"); }, "l.npy", "header of");
  // The conversions refuse an array whose data does not match its shape.
  NpyArray a;
  a.type = NpyType::kInt32;
  a.shape = {2, 2};
  a.data.resize(8);
  ExpectRefused([&] { NpyToLabels(a, "a"); }, "a", "does not match");
  // Decode equals Read.
  const auto dir = test::ScratchDir("limits_npy");
  WriteNpyMat(dir / "m.npy", cv::Mat(2, 3, CV_32SC1, cv::Scalar(4)));
  const Bytes bytes = ReadRaw(dir / "m.npy");
  EXPECT_EQ(DecodeNpy(bytes.data(), bytes.size(), "m").data, ReadNpy(dir / "m.npy").data);
  EXPECT_EQ(EncodeNpy(ReadNpy(dir / "m.npy"), "m"), bytes);
}

TEST(ReaderLimits, ImageHeaderProbeReadsEveryWrittenFormat) {
  const auto dir = test::ScratchDir("limits_img");
  const cv::Mat rgb(13, 21, CV_8UC3, cv::Scalar(10, 200, 30));
  cv::Mat grey(13, 21, CV_8UC1, cv::Scalar(90));
  for (const std::string ext : {".png", ".jpg", ".bmp", ".tif", ".webp", ".ppm", ".pgm"}) {
    SCOPED_TRACE(ext);
    const fs::path p = dir / ("x" + ext);
    WriteImage(p, ext == ".pgm" ? grey : rgb);
    const Bytes b = ReadRaw(p);
    const ImageHeader h = ProbeImageHeader(b.data(), b.size(), p.string());
    EXPECT_EQ(h.width, 21);
    EXPECT_EQ(h.height, 13);
    EXPECT_EQ(DecodeImageRgb(b.data(), b.size(), p.string()).size(), cv::Size(21, 13));
  }
}

// PNG, JPEG and BMP headers claiming 40000 x 40000 pixels are refused before OpenCV
// allocates 4.8 GB for them.
TEST(ReaderLimits, ImageRefusesHugeHeadersBeforeDecoding) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  PutBe(png, 13, 4);
  png.insert(png.end(), {'I', 'H', 'D', 'R'});
  PutBe(png, 40000, 4);
  PutBe(png, 40000, 4);
  png.insert(png.end(), {8, 2, 0, 0, 0, 0, 0, 0, 0});
  ExpectRefused([&] { DecodeImageRgb(png.data(), png.size(), "h.png"); }, "h.png", "too large");
  ExpectRefused([&] { DecodeKittiFlow(png.data(), png.size(), "k.png"); }, "k.png", "too large");

  Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xE0};
  PutBe(jpeg, 4, 2);
  jpeg.insert(jpeg.end(), {0, 0, 0xFF, 0xC0});
  PutBe(jpeg, 11, 2);
  jpeg.push_back(8);
  PutBe(jpeg, 40000, 2);  // height
  PutBe(jpeg, 40000, 2);  // width
  jpeg.insert(jpeg.end(), {1, 1, 0x11, 0});
  const ImageHeader jh = [&] {
    Bytes small = jpeg;
    small[13] = 0, small[14] = 10, small[15] = 0, small[16] = 20;  // 20 x 10
    return ProbeImageHeader(small.data(), small.size(), "s.jpg");
  }();
  EXPECT_EQ(jh.format, "jpeg");
  EXPECT_EQ(jh.width, 20);
  EXPECT_EQ(jh.height, 10);
  ExpectRefused([&] { DecodeImageRgb(jpeg.data(), jpeg.size(), "h.jpg"); }, "h.jpg", "too large");

  Bytes bmp = {'B', 'M'};
  PutLe(bmp, 0, 12);
  PutLe(bmp, 40, 4);
  PutLe(bmp, 40000, 4);
  PutLe(bmp, static_cast<uint32_t>(-40000), 4);  // top-down rows: negative height
  ExpectRefused([&] { DecodeImageRgb(bmp.data(), bmp.size(), "h.bmp"); }, "h.bmp", "too large");

  // Formats other than those WriteImage writes are not handed to OpenCV at all.
  const std::string exr = "v/1\x01" + std::string(64, '\0');
  ExpectRefused([&] { DecodeImageRgb(reinterpret_cast<const uint8_t*>(exr.data()), exr.size(), "x.exr"); }, "x.exr",
                "not a decodable image");
}

TEST(ReaderLimits, JsonNestingAndRepeatedKeysAreRefused) {
  // A million nested arrays would overflow the stack in anything that recurses over them.
  const std::string deep = "{\"0\": " + std::string(1000000, '[') + std::string(1000000, ']') + "}";
  ExpectRefused([&] { ParseMatchJson(deep, "d.json"); }, "d.json", "nested deeper");
  EXPECT_NO_THROW(ParseJsonText(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']'), "x"));
  ExpectRefused([&] { ParseJsonText("{\"a\": {\"b\": 1, \"b\": 2}}", "k.json"); }, "k.json", "appears twice");
  EXPECT_NO_THROW(ParseJsonText("{\"a\": {\"b\": 1}, \"c\": {\"b\": 2}}", "k.json"));  // same key, two objects
  ExpectRefused([&] { ParseMatchJson("{\"0\": [1], \"0\": [2]}", "m.json"); }, "m.json", "appears twice");
  ExpectRefused([&] { ParseJsonText("{\"a\": 1e999}", "n.json"); }, "n.json", "not valid JSON");
}

TEST(ReaderLimits, FilesAboveTheLimitAndFoldersAreRefusedBeforeReading) {
  const auto dir = test::ScratchDir("limits_files");
  ExpectRefused([&] { ReadFileBytes(dir); }, dir.string(), "is a folder");
  ExpectRefused([&] { ReadFlo(dir); }, dir.string(), "is a folder");
  WriteRaw(dir / "big.json", Bytes(100, ' '));
  ExpectRefused([&] { ReadFileText(dir / "big.json", 99); }, (dir / "big.json").string(), "too large");
  EXPECT_EQ(ReadFileText(dir / "big.json", 100).size(), 100u);
}

}  // namespace
}  // namespace animerun::io
