// Images through OpenCV. Colour images in the engine are RGB CV_8UC3 (OpenCV's BGR is
// converted at the boundary), grey images CV_8UC1.
//
// Limits (frames and references come from anywhere): only PNG, JPEG, BMP, TIFF, WebP and
// PNM (P1-P6) are decoded, the formats WriteImage writes; the size is read from the
// header first, and an image with a side above kMaxImageSide or more than kMaxImagePixels
// pixels is refused before OpenCV allocates it. Files above kMaxImageFileBytes are refused
// before they are read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include <opencv2/core.hpp>

namespace animerun::io {

constexpr int64_t kMaxImageSide = int64_t{1} << 15;          // 32768 px
constexpr int64_t kMaxImagePixels = int64_t{1} << 27;        // 134 Mpx (16384 x 8192)
constexpr uint64_t kMaxImageFileBytes = uint64_t{1} << 30;   // 1 GiB

// Reads an image as RGB CV_8UC3 (grey and RGBA are converted; 16-bit is scaled to 8-bit).
// Throws Error naming the file when it is missing or not a decodable image.
cv::Mat ReadImageRgb(const std::filesystem::path& path);
// Reads as CV_8UC1 (colour converted to grey).
cv::Mat ReadImageGray(const std::filesystem::path& path);
// Writes RGB CV_8UC3, RGBA CV_8UC4 or grey CV_8UC1 (format from the extension), atomically.
void WriteImage(const std::filesystem::path& path, const cv::Mat& image);

// The format and size an encoded image declares in its header.
struct ImageHeader {
  std::string format;  // "png", "jpeg", "bmp", "tiff", "webp", "pnm"
  int64_t width = 0;
  int64_t height = 0;
};
// Reads the header of an encoded image. Throws Error("<origin>: ...") for other formats,
// truncated or corrupt headers and sizes beyond the limits above.
ImageHeader ProbeImageHeader(const uint8_t* data, size_t size, const std::string& origin);

// Decodes an encoded image in memory with cv::imdecode's flags after ProbeImageHeader;
// never returns an empty Mat (throws Error naming origin instead).
cv::Mat DecodeImageBytes(const uint8_t* data, size_t size, int imread_flags, const std::string& origin);
// ReadImageRgb on bytes in memory.
cv::Mat DecodeImageRgb(const uint8_t* data, size_t size, const std::string& origin);

}  // namespace animerun::io
