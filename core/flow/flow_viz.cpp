// Flow colouring follows RAFT's core/utils/flow_viz.py (princeton-vl/RAFT) number by
// number: the same float32 / float64 steps as NumPy takes, so that the images match the
// official ones byte for byte.
#include "core/flow/flow_viz.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace animerun::flow {

namespace {

constexpr int kNumCols = 55;  // RY + YG + GC + CB + BM + MR

using ColorWheel = std::array<std::array<double, 3>, kNumCols>;

// The Middlebury wheel with RAFT's segment lengths; floor(255 * i / n) ramps as in make_colorwheel.
ColorWheel MakeColorWheel() {
  const int ry = 15, yg = 6, gc = 4, cb = 11, bm = 13, mr = 6;
  ColorWheel w{};
  auto ramp = [](int i, int n) { return std::floor(255.0 * i / n); };
  int col = 0;
  for (int i = 0; i < ry; ++i) w[col + i] = {255.0, ramp(i, ry), 0.0};
  col += ry;
  for (int i = 0; i < yg; ++i) w[col + i] = {255.0 - ramp(i, yg), 255.0, 0.0};
  col += yg;
  for (int i = 0; i < gc; ++i) w[col + i] = {0.0, 255.0, ramp(i, gc)};
  col += gc;
  for (int i = 0; i < cb; ++i) w[col + i] = {0.0, 255.0 - ramp(i, cb), 255.0};
  col += cb;
  for (int i = 0; i < bm; ++i) w[col + i] = {ramp(i, bm), 0.0, 255.0};
  col += bm;
  for (int i = 0; i < mr; ++i) w[col + i] = {255.0, 0.0, 255.0 - ramp(i, mr)};
  return w;
}

const ColorWheel& Wheel() {
  static const ColorWheel wheel = MakeColorWheel();
  return wheel;
}

// flow_uv_to_colors for one pixel of normalised (u, v). NumPy computes rad, the angle and
// fk in float32 (float32 arrays), f = fk - k0 in float64 (float32 - int32 promotes), and the
// colour in float64; the same types here keep every rounding identical.
inline void ColorPixel(float u, float v, uint8_t* rgb) {
  const ColorWheel& wheel = Wheel();
  const float rad = std::sqrt(u * u + v * v);
  const float a = std::atan2(-v, -u) / static_cast<float>(M_PI);
  const float fk = (a + 1.0f) / 2.0f * static_cast<float>(kNumCols - 1);
  const int k0 = static_cast<int>(std::floor(fk));
  int k1 = k0 + 1;
  if (k1 == kNumCols) k1 = 0;
  const double f = static_cast<double>(fk) - k0;
  for (int i = 0; i < 3; ++i) {
    const double col0 = wheel[k0][i] / 255.0;
    const double col1 = wheel[k1][i] / 255.0;
    double col = (1.0 - f) * col0 + f * col1;
    if (rad <= 1.0f) {
      col = 1.0 - static_cast<double>(rad) * (1.0 - col);
    } else {
      col = col * 0.75;  // out of range: darker, as the official code does
    }
    rgb[i] = static_cast<uint8_t>(std::floor(255.0 * col));
  }
}

inline bool Finite(float u, float v) { return std::isfinite(u) && std::isfinite(v); }

}  // namespace

void FlowVizOptions::Check() const {
  Require(std::isfinite(max_flow) && max_flow >= 0.0, "flow viz: max_flow must be >= 0 (0 = automatic)");
  Require(std::isfinite(clip_flow) && clip_flow >= 0.0, "flow viz: clip_flow must be >= 0 (0 = no clipping)");
}

cv::Mat FlowToColor(const cv::Mat& flow, const FlowVizOptions& options) {
  options.Check();
  if (flow.empty() || flow.type() != CV_32FC2)
    throw Error("FlowToColor: expected a non-empty CV_32FC2 flow, got type " + std::to_string(flow.type()) +
                " of size " + std::to_string(flow.cols) + "x" + std::to_string(flow.rows));
  const int h = flow.rows, w = flow.cols;

  // np.clip(flow, 0, clip): the lower bound 0 is the official behaviour, kept on purpose.
  cv::Mat uv = flow;
  if (options.clip_flow > 0.0) {
    uv = flow.clone();
    const float hi = static_cast<float>(options.clip_flow);
    for (int y = 0; y < h; ++y) {
      float* p = uv.ptr<float>(y);
      for (int x = 0; x < 2 * w; ++x)
        if (std::isfinite(p[x])) p[x] = std::min(std::max(p[x], 0.0f), hi);
    }
  }

  float divisor;
  if (options.max_flow > 0.0) {
    divisor = static_cast<float>(options.max_flow);
  } else {
    float rad_max = 0.0f;  // over finite pixels only (NumPy's max would be NaN)
    for (int y = 0; y < h; ++y) {
      const float* p = uv.ptr<float>(y);
      for (int x = 0; x < w; ++x) {
        const float u = p[2 * x], v = p[2 * x + 1];
        if (!Finite(u, v)) continue;
        rad_max = std::max(rad_max, std::sqrt(u * u + v * v));
      }
    }
    // NumPy 1.x: float32 scalar + Python float is a float64 sum, then cast to float32
    // when dividing the float32 array.
    divisor = static_cast<float>(static_cast<double>(rad_max) + 1e-5);
  }

  cv::Mat out(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    const float* p = uv.ptr<float>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x, o += 3) {
      const float u = p[2 * x], v = p[2 * x + 1];
      if (!Finite(u, v)) {
        o[0] = o[1] = o[2] = 0;
        continue;
      }
      ColorPixel(u / divisor, v / divisor, o);
      if (options.bgr) std::swap(o[0], o[2]);
    }
  }
  return out;
}

cv::Mat ColorWheelLegend(int size) {
  if (size < 2 || size > 8192) throw Error("ColorWheelLegend: size must be in 2..8192, got " + std::to_string(size));
  cv::Mat out(size, size, CV_8UC3, cv::Scalar(255, 255, 255));
  const float c = (size - 1) * 0.5f;
  const float r = size * 0.5f;
  for (int y = 0; y < size; ++y) {
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < size; ++x, o += 3) {
      const float u = (x - c) / r, v = (y - c) / r;
      if (u * u + v * v > 1.0f) continue;  // outside the circle stays white
      ColorPixel(u, v, o);
    }
  }
  return out;
}

void ArrowOptions::Check() const {
  Require(step >= 1, "flow arrows: step must be >= 1");
  Require(std::isfinite(scale) && scale > 0.0, "flow arrows: scale must be > 0");
  Require(thickness >= 1 && thickness <= 32, "flow arrows: thickness must be in 1..32");
  Require(std::isfinite(min_magnitude) && min_magnitude >= 0.0, "flow arrows: min_magnitude must be >= 0");
}

cv::Mat DrawFlowArrows(const cv::Mat& image, const cv::Mat& flow, const ArrowOptions& options) {
  options.Check();
  if (flow.empty() || flow.type() != CV_32FC2) throw Error("DrawFlowArrows: expected a non-empty CV_32FC2 flow");
  if (image.size() != flow.size())
    throw Error("DrawFlowArrows: image is " + std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                " but the flow is " + std::to_string(flow.cols) + "x" + std::to_string(flow.rows));
  cv::Mat out;
  if (image.type() == CV_8UC3) {
    out = image.clone();
  } else if (image.type() == CV_8UC1) {
    cv::cvtColor(image, out, cv::COLOR_GRAY2RGB);
  } else {
    throw Error("DrawFlowArrows: expected an 8-bit RGB or grey image");
  }
  // Sub-pixel end points (shift bits) keep short arrows pointing the right way.
  constexpr int kShift = 4;
  constexpr double kOne = 1 << kShift;
  for (int y = options.step / 2; y < flow.rows; y += options.step) {
    const cv::Vec2f* row = flow.ptr<cv::Vec2f>(y);
    for (int x = options.step / 2; x < flow.cols; x += options.step) {
      const float u = row[x][0], v = row[x][1];
      if (!Finite(u, v) || std::hypot(u, v) < options.min_magnitude) continue;
      const double ex = x + options.scale * u, ey = y + options.scale * v;
      // Guard against absurd flows overflowing the fixed-point coordinates.
      if (std::abs(ex) > 1e6 || std::abs(ey) > 1e6) continue;
      cv::arrowedLine(out, cv::Point(cvRound(x * kOne), cvRound(y * kOne)),
                      cv::Point(cvRound(ex * kOne), cvRound(ey * kOne)), options.color, options.thickness,
                      cv::LINE_AA, kShift, 0.3);
    }
  }
  return out;
}

}  // namespace animerun::flow
