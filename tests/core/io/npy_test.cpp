#include "core/io/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/io/io_test_util.h"
#include "core/util/error.h"
#include "test_paths.h"

namespace animerun::io {
namespace {
namespace fs = std::filesystem;
using namespace test_util;

// A .npy built by hand: magic, version, header length (u16 for 1.x, u32 for 2.x/3.x),
// the dict text as given (no padding unless the caller adds it), then the data.
Bytes MakeNpy(const std::string& dict, const Bytes& data, int major = 1) {
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const size_t n = dict.size();
  b.push_back(static_cast<uint8_t>(n & 0xFF));
  b.push_back(static_cast<uint8_t>((n >> 8) & 0xFF));
  if (major >= 2) {
    b.push_back(static_cast<uint8_t>((n >> 16) & 0xFF));
    b.push_back(static_cast<uint8_t>((n >> 24) & 0xFF));
  }
  b.insert(b.end(), dict.begin(), dict.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

template <typename T>
Bytes LeBytes(const std::vector<T>& v) {
  Bytes b;
  for (T x : v) {
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &x, sizeof(T));
    b.insert(b.end(), raw, raw + sizeof(T));  // the test host is little-endian (x86/ARM)
  }
  return b;
}
template <typename T>
Bytes BeBytes(const std::vector<T>& v) {
  Bytes b;
  for (T x : v) {
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &x, sizeof(T));
    b.insert(b.end(), std::rbegin(raw), std::rend(raw));
  }
  return b;
}

template <typename T>
std::vector<T> Values(const NpyArray& a) {
  return std::vector<T>(a.as<T>(), a.as<T>() + a.numel());
}

template <typename T>
NpyArray MakeArray(NpyType t, std::vector<int64_t> shape, const std::vector<T>& v) {
  NpyArray a;
  a.type = t;
  a.shape = std::move(shape);
  a.data = LeBytes(v);
  return a;
}

TEST(Npy, TypeNamesAndSizes) {
  EXPECT_EQ(NpyItemSize(NpyType::kBool), 1u);
  EXPECT_EQ(NpyItemSize(NpyType::kInt64), 8u);
  EXPECT_EQ(NpyItemSize(NpyType::kFloat32), 4u);
  EXPECT_STREQ(NpyTypeName(NpyType::kFloat64), "float64");
  NpyArray a;
  EXPECT_EQ(a.numel(), 1);  // shape () is a scalar
  a.shape = {3, 0, 2};
  EXPECT_EQ(a.numel(), 0);
}

TEST(Npy, RoundTripEveryDtypeAndShape) {
  const auto dir = test::ScratchDir("io_npy_rt");
  const std::vector<NpyArray> arrays = {
      MakeArray<uint8_t>(NpyType::kBool, {2, 3}, {1, 0, 0, 1, 1, 0}),
      MakeArray<uint8_t>(NpyType::kUint8, {5}, {0, 1, 127, 200, 255}),
      MakeArray<int32_t>(NpyType::kInt32, {2, 2}, {-1, 0, std::numeric_limits<int32_t>::max(), -7}),
      MakeArray<int64_t>(NpyType::kInt64, {}, {int64_t{1} << 40}),
      MakeArray<float>(NpyType::kFloat32, {2, 3, 2}, {0.5f, -1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1e-30f}),
      MakeArray<double>(NpyType::kFloat64, {1, 3}, {3.141592653589793, -0.0, 1e300}),
      MakeArray<float>(NpyType::kFloat32, {0, 4}, {}),
  };
  int i = 0;
  for (const auto& a : arrays) {
    const auto p = dir / ("a" + std::to_string(i++) + ".npy");
    WriteNpy(p, a);
    const NpyArray b = ReadNpy(p);
    SCOPED_TRACE(p.string());
    EXPECT_EQ(b.type, a.type);
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.data, a.data);
  }
}

TEST(Npy, WriterLayoutMatchesNumpy) {
  const auto dir = test::ScratchDir("io_npy_layout");
  WriteNpy(dir / "a.npy", MakeArray<float>(NpyType::kFloat32, {2, 3}, {1, 2, 3, 4, 5, 6}));
  const Bytes b = ReadRaw(dir / "a.npy");
  ASSERT_GE(b.size(), 10u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 6), "\x93NUMPY");
  EXPECT_EQ(b[6], 1);
  EXPECT_EQ(b[7], 0);
  const size_t hlen = b[8] | (b[9] << 8);
  EXPECT_EQ((10 + hlen) % 64, 0u);
  ASSERT_EQ(b.size(), 10 + hlen + 24);
  const std::string header(b.begin() + 10, b.begin() + 10 + static_cast<std::ptrdiff_t>(hlen));
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u) << header;
  EXPECT_EQ(header.back(), '\n');
  WriteNpy(dir / "v.npy", MakeArray<int64_t>(NpyType::kInt64, {5}, {1, 2, 3, 4, 5}));
  const Bytes v = ReadRaw(dir / "v.npy");
  EXPECT_NE(std::string(v.begin(), v.end()).find("'<i8', 'fortran_order': False, 'shape': (5,), }"), std::string::npos);
  WriteNpy(dir / "s.npy", MakeArray<uint8_t>(NpyType::kBool, {}, {1}));
  const Bytes s = ReadRaw(dir / "s.npy");
  EXPECT_NE(std::string(s.begin(), s.end()).find("'|b1', 'fortran_order': False, 'shape': (), }"), std::string::npos);

  NpyArray bad = MakeArray<float>(NpyType::kFloat32, {2, 3}, {1, 2, 3});
  ExpectFileError([&] { WriteNpy(dir / "bad.npy", bad); }, dir / "bad.npy");
  EXPECT_FALSE(fs::exists(dir / "bad.npy"));
}

TEST(Npy, ParsesHeaderVariants) {
  const auto dir = test::ScratchDir("io_npy_hdr");
  const Bytes data = LeBytes<int32_t>({1, 2, 3, 4, 5, 6});
  const std::vector<std::string> dicts = {
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }\n",
      "{'shape': (2,3), 'descr': '<i4', 'fortran_order': False}",
      "  { \"fortran_order\" :False ,\"shape\":( 2 , 3 , ) ,  'descr':'<i4' ,}     \n",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }\n",
  };
  for (size_t i = 0; i < dicts.size(); ++i) {
    const auto p = dir / ("h" + std::to_string(i) + ".npy");
    WriteRaw(p, MakeNpy(dicts[i], data));
    SCOPED_TRACE(dicts[i]);
    const NpyArray a = ReadNpy(p);
    EXPECT_EQ(a.type, NpyType::kInt32);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(Values<int32_t>(a), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  }
  // Versions 2.0 and 3.0 have a 4-byte header length.
  for (int major : {2, 3}) {
    const auto p = dir / ("v" + std::to_string(major) + ".npy");
    WriteRaw(p, MakeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", LeBytes<double>({0.25, -8}), major));
    const NpyArray a = ReadNpy(p);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2}));
    EXPECT_EQ(Values<double>(a), (std::vector<double>{0.25, -8}));
  }
  WriteRaw(dir / "scalar.npy", MakeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", LeBytes<int64_t>({-42})));
  const NpyArray s = ReadNpy(dir / "scalar.npy");
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(Values<int64_t>(s), (std::vector<int64_t>{-42}));
}

TEST(Npy, BigEndianIsByteSwapped) {
  const auto dir = test::ScratchDir("io_npy_be");
  WriteRaw(dir / "i4.npy", MakeNpy("{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }",
                                   BeBytes<int32_t>({1, -2, 0x01020304})));
  EXPECT_EQ(Values<int32_t>(ReadNpy(dir / "i4.npy")), (std::vector<int32_t>{1, -2, 0x01020304}));
  WriteRaw(dir / "i8.npy", MakeNpy("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }",
                                   BeBytes<int64_t>({int64_t{1} << 33, -5})));
  EXPECT_EQ(Values<int64_t>(ReadNpy(dir / "i8.npy")), (std::vector<int64_t>{int64_t{1} << 33, -5}));
  WriteRaw(dir / "f4.npy", MakeNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", BeBytes<float>({1.5f, -3.25f})));
  EXPECT_EQ(Values<float>(ReadNpy(dir / "f4.npy")), (std::vector<float>{1.5f, -3.25f}));
  WriteRaw(dir / "f8.npy", MakeNpy("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", BeBytes<double>({1e-300})));
  EXPECT_EQ(Values<double>(ReadNpy(dir / "f8.npy")), (std::vector<double>{1e-300}));
  WriteRaw(dir / "u1.npy", MakeNpy("{'descr': '>u1', 'fortran_order': False, 'shape': (2,), }", Bytes{7, 250}));
  EXPECT_EQ(Values<uint8_t>(ReadNpy(dir / "u1.npy")), (std::vector<uint8_t>{7, 250}));
}

TEST(Npy, FortranOrderIsTransposed2D) {
  const auto dir = test::ScratchDir("io_npy_f2");
  // a = [[0, 1, 2], [10, 11, 12]] stored column by column.
  WriteRaw(dir / "f.npy", MakeNpy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
                                  LeBytes<int32_t>({0, 10, 1, 11, 2, 12})));
  const NpyArray a = ReadNpy(dir / "f.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Values<int32_t>(a), (std::vector<int32_t>{0, 1, 2, 10, 11, 12}));
  // Big-endian and Fortran order together.
  WriteRaw(dir / "fb.npy", MakeNpy("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }",
                                   BeBytes<double>({0, 10, 1, 11, 2, 12})));
  EXPECT_EQ(Values<double>(ReadNpy(dir / "fb.npy")), (std::vector<double>{0, 1, 2, 10, 11, 12}));
}

TEST(Npy, FortranOrderIsTransposed3D) {
  const auto dir = test::ScratchDir("io_npy_f3");
  // a[i][j][k] = 100 i + 10 j + k, shape (2, 3, 4); Fortran offset i + 2 j + 6 k.
  std::vector<int64_t> fortran(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) fortran[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
  WriteRaw(dir / "f.npy", MakeNpy("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3, 4), }", LeBytes(fortran)));
  const NpyArray a = ReadNpy(dir / "f.npy");
  ASSERT_EQ(a.shape, (std::vector<int64_t>{2, 3, 4}));
  const auto v = Values<int64_t>(a);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(v[(i * 3 + j) * 4 + k], 100 * i + 10 * j + k);
  // A 1-D Fortran array is the same as C order.
  WriteRaw(dir / "f1.npy", MakeNpy("{'descr': '|u1', 'fortran_order': True, 'shape': (3,), }", Bytes{1, 2, 3}));
  EXPECT_EQ(Values<uint8_t>(ReadNpy(dir / "f1.npy")), (std::vector<uint8_t>{1, 2, 3}));
}

TEST(Npy, RefusesUnsupportedDtypesNamingThem) {
  const auto dir = test::ScratchDir("io_npy_dtype");
  const auto p = dir / "d.npy";
  for (const std::string d : {"<c8", "|O", "<U5", "<i2", "<u2", "<f2", "|i1", "<M8[ns]", "xyz"}) {
    WriteRaw(p, MakeNpy("{'descr': '" + d + "', 'fortran_order': False, 'shape': (2,), }", Bytes(64, 0)));
    SCOPED_TRACE(d);
    ExpectFileError([&] { ReadNpy(p); }, p, "'" + d + "'");
  }
  WriteRaw(p, MakeNpy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }", Bytes(8, 0)));
  ExpectFileError([&] { ReadNpy(p); }, p, "structured");
}

TEST(Npy, RefusesCorruptHeaders) {
  const auto dir = test::ScratchDir("io_npy_corrupt");
  const auto p = dir / "c.npy";
  const Bytes d8(8, 0);
  const std::vector<std::string> bad = {
      "{'descr': '<i4', 'fortran_order': False}",                                 // no shape
      "{'descr': '<i4', 'fortran_order': Maybe, 'shape': (2,)}",                  // bad bool
      "{'descr': '<i4, 'fortran_order': False, 'shape': (2,)}",                   // quoting
      "{'descr': '<i4', 'fortran_order': False, 'shape': (-2,)}",                 // negative
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,) 'x': 1}",           // missing comma
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",      // unknown key
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,)} junk",             // trailing junk
      "'descr': '<i4', 'fortran_order': False, 'shape': (2,)",                    // no braces
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,",                    // unterminated
      "{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999)}",
      "",
  };
  for (const auto& h : bad) {
    WriteRaw(p, MakeNpy(h, d8));
    SCOPED_TRACE(h);
    ExpectFileError([&] { ReadNpy(p); }, p);
  }
  Bytes b = MakeNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", d8);
  b[1] = 'X';
  WriteRaw(p, b);
  ExpectFileError([&] { ReadNpy(p); }, p, "magic");
  b = MakeNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", d8);
  b[6] = 4;
  WriteRaw(p, b);
  ExpectFileError([&] { ReadNpy(p); }, p, "version");
  b = MakeNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", d8);
  b[9] = 0x7F;  // header length beyond the file
  WriteRaw(p, b);
  ExpectFileError([&] { ReadNpy(p); }, p, "truncated");
  ExpectFileError([&] { ReadNpy(dir / "missing.npy"); }, dir / "missing.npy");
}

TEST(Npy, RefusesTruncatedAndTooLongData) {
  const auto dir = test::ScratchDir("io_npy_trunc");
  const auto p = dir / "t.npy";
  WriteNpy(dir / "good.npy", MakeArray<int64_t>(NpyType::kInt64, {3, 4}, std::vector<int64_t>(12, 9)));
  const Bytes good = ReadRaw(dir / "good.npy");
  ASSERT_EQ(good.size(), 128u + 96);  // the 60-character dict pads to 128 bytes
  for (size_t cut : {size_t{0}, size_t{5}, size_t{8}, size_t{9}, size_t{10}, size_t{30}, size_t{69}, size_t{127},
                     size_t{128}, size_t{129}, size_t{200}, good.size() - 1}) {
    WriteRaw(p, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
    SCOPED_TRACE(cut);
    ExpectFileError([&] { ReadNpy(p); }, p);
  }
  WriteRaw(p, Bytes(good.begin(), good.end() - 8));
  ExpectFileError([&] { ReadNpy(p); }, p, "truncated");
  Bytes longer = good;
  longer.push_back(1);
  WriteRaw(p, longer);
  ExpectFileError([&] { ReadNpy(p); }, p, "extra");
}

TEST(NpyMat, ReadLabels) {
  const auto dir = test::ScratchDir("io_npy_labels");
  WriteNpy(dir / "l64.npy", MakeArray<int64_t>(NpyType::kInt64, {2, 3}, {0, 1, 2, -1, 70000, 5}));
  const cv::Mat l = ReadNpyLabels(dir / "l64.npy");
  ASSERT_EQ(l.type(), CV_32SC1);
  ASSERT_EQ(l.size(), cv::Size(3, 2));
  EXPECT_EQ(l.at<int32_t>(1, 0), -1);
  EXPECT_EQ(l.at<int32_t>(1, 1), 70000);
  WriteNpy(dir / "lb.npy", MakeArray<uint8_t>(NpyType::kBool, {1, 2}, {0, 1}));
  EXPECT_EQ(ReadNpyLabels(dir / "lb.npy").at<int32_t>(0, 1), 1);
  WriteNpy(dir / "l32.npy", MakeArray<int32_t>(NpyType::kInt32, {1, 2}, {-5, 9}));
  EXPECT_EQ(ReadNpyLabels(dir / "l32.npy").at<int32_t>(0, 0), -5);

  WriteNpy(dir / "big.npy", MakeArray<int64_t>(NpyType::kInt64, {1, 2}, {0, int64_t{1} << 40}));
  ExpectFileError([&] { ReadNpyLabels(dir / "big.npy"); }, dir / "big.npy", "int32");
  WriteNpy(dir / "f.npy", MakeArray<float>(NpyType::kFloat32, {1, 2}, {0, 1}));
  ExpectFileError([&] { ReadNpyLabels(dir / "f.npy"); }, dir / "f.npy", "float32");
  WriteNpy(dir / "3d.npy", MakeArray<int32_t>(NpyType::kInt32, {1, 2, 2}, {0, 1, 2, 3}));
  ExpectFileError([&] { ReadNpyLabels(dir / "3d.npy"); }, dir / "3d.npy", "(1, 2, 2)");
  WriteNpy(dir / "1d.npy", MakeArray<int32_t>(NpyType::kInt32, {4}, {0, 1, 2, 3}));
  ExpectFileError([&] { ReadNpyLabels(dir / "1d.npy"); }, dir / "1d.npy", "(4,)");
}

TEST(NpyMat, ReadMaskClamps) {
  const auto dir = test::ScratchDir("io_npy_mask");
  WriteNpy(dir / "m.npy", MakeArray<int32_t>(NpyType::kInt32, {2, 2}, {-5, 0, 1, 300}));
  const cv::Mat m = ReadNpyMask(dir / "m.npy");
  ASSERT_EQ(m.type(), CV_8UC1);
  EXPECT_EQ(m.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(m.at<uint8_t>(1, 0), 1);
  EXPECT_EQ(m.at<uint8_t>(1, 1), 255);
  WriteNpy(dir / "b.npy", MakeArray<uint8_t>(NpyType::kBool, {1, 3}, {1, 0, 1}));
  EXPECT_EQ(cv::countNonZero(ReadNpyMask(dir / "b.npy")), 2);
  WriteNpy(dir / "f.npy", MakeArray<double>(NpyType::kFloat64, {1, 1}, {1}));
  ExpectFileError([&] { ReadNpyMask(dir / "f.npy"); }, dir / "f.npy", "float64");
}

TEST(NpyMat, ReadFloatChannels) {
  const auto dir = test::ScratchDir("io_npy_float");
  WriteNpy(dir / "f.npy", MakeArray<double>(NpyType::kFloat64, {1, 2, 2}, {0.5, -1, 2, 3}));
  const cv::Mat f = ReadNpyFloat(dir / "f.npy");
  ASSERT_EQ(f.type(), CV_32FC2);
  EXPECT_EQ(f.at<cv::Vec2f>(0, 1), cv::Vec2f(2, 3));
  WriteNpy(dir / "i.npy", MakeArray<int64_t>(NpyType::kInt64, {2, 1}, {-3, 4}));
  const cv::Mat g = ReadNpyFloat(dir / "i.npy");
  ASSERT_EQ(g.type(), CV_32FC1);
  EXPECT_EQ(g.at<float>(0, 0), -3.0f);
  WriteNpy(dir / "4d.npy", MakeArray<float>(NpyType::kFloat32, {1, 1, 1, 1}, {0}));
  ExpectFileError([&] { ReadNpyFloat(dir / "4d.npy"); }, dir / "4d.npy", "(1, 1, 1, 1)");
  WriteNpy(dir / "c0.npy", MakeArray<float>(NpyType::kFloat32, {2, 2, 0}, {}));
  ExpectFileError([&] { ReadNpyFloat(dir / "c0.npy"); }, dir / "c0.npy", "channel");
}

TEST(NpyMat, WriteMatTypes) {
  const auto dir = test::ScratchDir("io_npy_wmat");
  cv::Mat u8 = (cv::Mat_<uint8_t>(2, 2) << 1, 2, 3, 250);
  WriteNpyMat(dir / "u8.npy", u8);
  NpyArray a = ReadNpy(dir / "u8.npy");
  EXPECT_EQ(a.type, NpyType::kUint8);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(Values<uint8_t>(a), (std::vector<uint8_t>{1, 2, 3, 250}));

  cv::Mat s32 = (cv::Mat_<int32_t>(1, 3) << -1, 0, 123456);
  WriteNpyMat(dir / "s64.npy", s32, true);
  a = ReadNpy(dir / "s64.npy");
  EXPECT_EQ(a.type, NpyType::kInt64);
  EXPECT_EQ(Values<int64_t>(a), (std::vector<int64_t>{-1, 0, 123456}));
  WriteNpyMat(dir / "s32.npy", s32);
  EXPECT_EQ(ReadNpy(dir / "s32.npy").type, NpyType::kInt32);
  EXPECT_EQ(cv::countNonZero(ReadNpyLabels(dir / "s32.npy") != s32), 0);

  cv::Mat f2(3, 4, CV_32FC2);
  cv::randu(f2, -10, 10);
  const cv::Mat roi = f2(cv::Rect(1, 1, 2, 2));  // not continuous
  WriteNpyMat(dir / "f2.npy", roi);
  a = ReadNpy(dir / "f2.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2, 2}));
  const cv::Mat back = ReadNpyFloat(dir / "f2.npy");
  EXPECT_EQ(cv::norm(back, roi, cv::NORM_INF), 0.0);

  cv::Mat d = (cv::Mat_<double>(1, 2) << 1e-200, -2);
  WriteNpyMat(dir / "d.npy", d);
  EXPECT_EQ(Values<double>(ReadNpy(dir / "d.npy")), (std::vector<double>{1e-200, -2}));

  ExpectFileError([&] { WriteNpyMat(dir / "x.npy", cv::Mat(2, 2, CV_16UC1)); }, dir / "x.npy");
  ExpectFileError([&] { WriteNpyMat(dir / "y.npy", cv::Mat()); }, dir / "y.npy");
}

}  // namespace
}  // namespace animerun::io
