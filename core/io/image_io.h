// Images through OpenCV. Colour images in the engine are RGB CV_8UC3 (OpenCV's BGR is
// converted at the boundary), grey images CV_8UC1.
#pragma once

#include <filesystem>

#include <opencv2/core.hpp>

namespace animerun::io {

// Reads an image as RGB CV_8UC3 (grey and RGBA are converted; 16-bit is scaled to 8-bit).
// Throws Error naming the file when it is missing or not a decodable image.
cv::Mat ReadImageRgb(const std::filesystem::path& path);
// Reads as CV_8UC1 (colour converted to grey).
cv::Mat ReadImageGray(const std::filesystem::path& path);
// Writes RGB CV_8UC3, RGBA CV_8UC4 or grey CV_8UC1 (format from the extension), atomically.
void WriteImage(const std::filesystem::path& path, const cv::Mat& image);

}  // namespace animerun::io
