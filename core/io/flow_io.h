// Optical-flow files: Middlebury .flo, KITTI 16-bit PNG, PFM.
// A flow field is a cv::Mat of type CV_32FC2 holding (u, v) in pixels per pixel.
//
// Limits (files come from anywhere): every reader refuses a header claiming a side longer
// than kMaxFlowSide or more than kMaxFlowPixels pixels before it allocates anything, and
// refuses a file larger than the largest such field could need before reading it. The
// Decode* functions parse bytes already in memory (the fuzz targets call them); origin
// names the data in error messages, as a path does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace animerun::io {

constexpr int64_t kMaxFlowSide = int64_t{1} << 16;     // 65536 px, either side
constexpr int64_t kMaxFlowPixels = int64_t{1} << 28;   // 16384 x 16384 (2 GiB of CV_32FC2)

// Middlebury .flo: "PIEH" tag (float 202021.25), int32 width, int32 height, then
// height*width*2 float32 little-endian, row-major, u before v.
cv::Mat ReadFlo(const std::filesystem::path& path);
cv::Mat DecodeFlo(const uint8_t* data, size_t size, const std::string& origin);
void WriteFlo(const std::filesystem::path& path, const cv::Mat& flow);  // atomic
std::vector<uint8_t> EncodeFlo(const cv::Mat& flow, const std::string& origin);  // WriteFlo's bytes

// KITTI flow PNG: 16-bit 3-channel; u = (R - 2^15) / 64, v = (G - 2^15) / 64, valid = B.
// Returns flow (CV_32FC2) and valid (CV_8UC1, 0/1).
struct KittiFlow {
  cv::Mat flow;
  cv::Mat valid;
};
// The PNG goes through DecodeImageBytes (image_io.h), with its limits.
KittiFlow ReadKittiFlow(const std::filesystem::path& path);
KittiFlow DecodeKittiFlow(const uint8_t* data, size_t size, const std::string& origin);
// valid may be empty (all valid). Values are rounded to 1/64 px and clamped to the 16-bit range.
// Invalid pixels, and pixels with a non-finite u or v, are written as 0,0,0 (as KITTI does).
void WriteKittiFlow(const std::filesystem::path& path, const cv::Mat& flow, const cv::Mat& valid = cv::Mat());

// PFM: "PF" (3 channels) or "Pf" (1 channel), width height, scale (negative = little
// endian), rows stored bottom-up. Returns CV_32FC1 or CV_32FC3 top-down.
cv::Mat ReadPfm(const std::filesystem::path& path);
cv::Mat DecodePfm(const uint8_t* data, size_t size, const std::string& origin);
// Writes CV_32FC1 ("Pf") or CV_32FC3 ("PF"), little endian (scale -1), bottom-up; atomic.
void WritePfm(const std::filesystem::path& path, const cv::Mat& image);
std::vector<uint8_t> EncodePfm(const cv::Mat& image, const std::string& origin);  // WritePfm's bytes
// PFM as a flow: the first two channels of a 3-channel file (as FlyingThings stores flow).
cv::Mat ReadPfmFlow(const std::filesystem::path& path);

// Any of the above by extension (.flo, .png, .pfm); for .png the valid mask is dropped.
cv::Mat ReadFlowAuto(const std::filesystem::path& path);

}  // namespace animerun::io
