// Sizes of image and flow files from their headers alone, so that a training set of tens of
// thousands of pairs can be checked in seconds before a run starts (a run that stops at
// step 15,000 on a truncated file wastes hours). Each probe validates what the header lets
// it: the format's magic, plausible dimensions and, where the format fixes it, the file
// length (.flo, .pfm), so a truncated file is found here rather than mid-run.
#pragma once

#include <filesystem>

#include <opencv2/core.hpp>

namespace animerun::io {

// Width x height of an image file: PNG from its IHDR chunk; other formats by decoding.
// Throws Error naming the file when it is missing, not an image or truncated.
cv::Size ProbeImageSize(const std::filesystem::path& path);

// Width x height of a flow file by extension: .flo (header; length must be 12 + 8*W*H),
// .pfm (header; 3 or 1 channels; length must match), .png (KITTI: 16-bit RGB IHDR), .npy
// (decoded: [H, W, 2] float). Throws Error naming the file and the problem.
cv::Size ProbeFlowSize(const std::filesystem::path& path);

}  // namespace animerun::io
