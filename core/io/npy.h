// NumPy .npy files (format versions 1.0, 2.0 and 3.0), as AnimeRun stores segments and masks.
//
// Limits (files come from anywhere): a header of at most kMaxNpyHeaderBytes, at most 32
// dimensions and kMaxNpyElements elements; the data must be exactly what the header
// declares, so nothing is allocated beyond the file's own size. Files above
// kMaxNpyFileBytes are refused before they are read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace animerun::io {

constexpr size_t kMaxNpyHeaderBytes = 65536;
constexpr int64_t kMaxNpyElements = int64_t{1} << 28;           // 16384 x 16384
constexpr uint64_t kMaxNpyFileBytes = (uint64_t{1} << 31) + kMaxNpyHeaderBytes + 12;

enum class NpyType { kBool, kUint8, kInt32, kInt64, kFloat32, kFloat64 };

// An array as read: C order, native (little-endian) bytes.
struct NpyArray {
  NpyType type = NpyType::kUint8;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // numel * ItemSize(type) bytes

  int64_t numel() const;
  template <typename T>
  const T* as() const { return reinterpret_cast<const T*>(data.data()); }
};

size_t NpyItemSize(NpyType t);
const char* NpyTypeName(NpyType t);  // "bool", "uint8", ...

// Reads a .npy file. Big-endian arrays are byte-swapped; Fortran-order arrays are
// transposed to C order. Other dtypes (complex, object, strings...) are refused with a
// message naming the file and the dtype. Sizes are checked against the file length.
NpyArray ReadNpy(const std::filesystem::path& path);
// ReadNpy on bytes in memory; origin names them in error messages.
NpyArray DecodeNpy(const uint8_t* data, size_t size, const std::string& origin);
void WriteNpy(const std::filesystem::path& path, const NpyArray& array);  // atomic, version 1.0
std::vector<uint8_t> EncodeNpy(const NpyArray& array, const std::string& origin);  // WriteNpy's bytes

// 2-D arrays as cv::Mat. ReadNpyLabels: any integer/bool 2-D array -> CV_32SC1 (values
// must fit in int32). ReadNpyMask: 2-D bool/uint8/int -> CV_8UC1 with the stored values
// (clamped to 0..255). ReadNpyFloat: 2-D or HxWxC float/int -> CV_32FC(C).
cv::Mat ReadNpyLabels(const std::filesystem::path& path);
cv::Mat ReadNpyMask(const std::filesystem::path& path);
cv::Mat ReadNpyFloat(const std::filesystem::path& path);
// The same conversions of an array already read; origin names it in error messages.
cv::Mat NpyToLabels(const NpyArray& array, const std::string& origin);
cv::Mat NpyToMask(const NpyArray& array, const std::string& origin);
cv::Mat NpyToFloat(const NpyArray& array, const std::string& origin);
// Writes a cv::Mat (CV_8UC1 as uint8, CV_32SC1 as int32 or int64, CV_32FC1/CV_32FCn as
// float32 with shape HxW or HxWxC, CV_64F likewise).
void WriteNpyMat(const std::filesystem::path& path, const cv::Mat& mat, bool int32_as_int64 = false);

}  // namespace animerun::io
