// KITTI flow PNG (core/io/flow_io.h), through the limited image decoder.
#include <cmath>

#include "core/io/flow_io.h"
#include "fuzz/fuzz_target.h"

ANIMERUN_FUZZ_TARGET(kitti_png) {
  using namespace animerun;
  io::KittiFlow kf;
  if (!fuzz::Accepts("input.png", [&] { kf = io::DecodeKittiFlow(data, size, "input.png"); })) return 0;
  fuzz::Require(kf.flow.type() == CV_32FC2 && kf.valid.type() == CV_8UC1 && kf.flow.size() == kf.valid.size(),
                "KITTI flow and mask have one size");
  for (int y = 0; y < kf.flow.rows; ++y)
    for (int x = 0; x < kf.flow.cols; ++x) {
      const cv::Vec2f f = kf.flow.at<cv::Vec2f>(y, x);
      fuzz::Require(std::abs(f[0]) <= 512.f && std::abs(f[1]) <= 512.f, "16-bit KITTI flow is within +-512 px");
      fuzz::Require(kf.valid.at<uint8_t>(y, x) <= 1, "valid mask is 0/1");
    }
  return 0;
}
