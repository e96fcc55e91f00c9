#include "core/flow/flow_warp.h"

#include <cmath>
#include <limits>
#include <string>

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"
#include "core/util/mat_text.h"

namespace animerun::flow {

namespace {

}  // namespace

WarpResult WarpBack(const cv::Mat& frame_t, const cv::Mat& frame_t1, const cv::Mat& flow,
                    const cv::Mat& unmatched_forward) {
  Require(frame_t.type() == CV_8UC3 && frame_t1.type() == CV_8UC3, "warp: frames must be 8-bit RGB");
  Require(flow.type() == CV_32FC2, "warp: the flow must be CV_32FC2");
  Require(frame_t.size() == frame_t1.size() && flow.size() == frame_t.size(),
          "warp: sizes differ (frame t " + MatSizeText(frame_t) + ", frame t+1 " + MatSizeText(frame_t1) + ", flow " +
              MatSizeText(flow) + ")");
  Require(unmatched_forward.empty() || (unmatched_forward.type() == CV_8UC1 && unmatched_forward.size() == flow.size()),
          "warp: the occlusion mask must be CV_8UC1 of the flow's size");
  const int w = flow.cols, h = flow.rows;
  cv::Mat map(h, w, CV_32FC2);
  WarpResult r;
  r.valid = cv::Mat(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y) {
    const cv::Vec2f* f = flow.ptr<cv::Vec2f>(y);
    cv::Vec2f* m = map.ptr<cv::Vec2f>(y);
    uint8_t* v = r.valid.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const float tx = x + f[x][0], ty = y + f[x][1];
      const bool inside = std::isfinite(tx) && std::isfinite(ty) && tx >= 0 && ty >= 0 && tx <= w - 1 && ty <= h - 1;
      v[x] = inside ? 255 : 0;
      m[x] = inside ? cv::Vec2f(tx, ty) : cv::Vec2f(-1.f, -1.f);
    }
  }
  cv::remap(frame_t1, r.warped, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  r.error = cv::Mat(h, w, CV_32FC1);
  double sum = 0, sum_visible = 0;
  int64_t n = 0, n_visible = 0;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int y = 0; y < h; ++y) {
    const cv::Vec3b* a = frame_t.ptr<cv::Vec3b>(y);
    const cv::Vec3b* b = r.warped.ptr<cv::Vec3b>(y);
    const uint8_t* v = r.valid.ptr<uint8_t>(y);
    const uint8_t* u = unmatched_forward.empty() ? nullptr : unmatched_forward.ptr<uint8_t>(y);
    float* e = r.error.ptr<float>(y);
    for (int x = 0; x < w; ++x) {
      if (!v[x]) {
        e[x] = nan;
        continue;
      }
      e[x] = (std::abs(a[x][0] - b[x][0]) + std::abs(a[x][1] - b[x][1]) + std::abs(a[x][2] - b[x][2])) / 3.f;
      sum += e[x];
      ++n;
      if (u && u[x] == 1) {
        sum_visible += e[x];
        ++n_visible;
      }
    }
  }
  r.mean_error = n ? sum / n : 0.0;
  r.valid_fraction = static_cast<double>(n) / (static_cast<double>(w) * h);
  r.has_visible = n_visible > 0;
  r.mean_error_visible = n_visible ? sum_visible / n_visible : 0.0;
  return r;
}

}  // namespace animerun::flow
