#pragma once
// "WxH" of an image or field, for error messages.
#include <opencv2/core/mat.hpp>

#include <string>

namespace animerun {

inline std::string MatSizeText(const cv::Mat& m) { return std::to_string(m.cols) + "x" + std::to_string(m.rows); }

}  // namespace animerun
