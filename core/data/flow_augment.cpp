#include "core/data/flow_augment.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace animerun::data {

namespace {

// RAFT FlowAugmentor constants.
constexpr double kSpatialProb = 0.8, kStretchProb = 0.8, kMaxStretch = 0.2;
constexpr double kHFlipProb = 0.5, kVFlipProb = 0.1;
constexpr double kAsymmetricProb = 0.2, kEraserProb = 0.5;
constexpr int kEraseMin = 50, kEraseMax = 100;
// ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.5/3.14).
constexpr double kJitter = 0.4, kHue = 0.5 / 3.14;

inline uint8_t Luma(const uint8_t* p) {
  return static_cast<uint8_t>((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
}

// PIL ImagingBlend on one byte: in1 + alpha * (in2 - in1) with a C float alpha.
inline uint8_t Blend(int in1, int in2, float alpha) {
  if (alpha >= 0.f && alpha <= 1.f) return static_cast<uint8_t>(static_cast<float>(in1) + alpha * float(in2 - in1));
  const float t = static_cast<float>(in1) + alpha * float(in2 - in1);
  if (t <= 0.f) return 0;
  if (t >= 255.f) return 255;
  return static_cast<uint8_t>(t);
}

// Image.blend(degenerate, img, factor) where degenerate is given per pixel by f(pixel).
template <class Degenerate>
void BlendWith(cv::Mat& rgb, double factor, Degenerate degenerate) {
  const float alpha = static_cast<float>(factor);
  if (alpha == 1.f) return;  // PIL returns a copy of img
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3) {
      uint8_t d[3];
      degenerate(p, d);
      for (int c = 0; c < 3; ++c) p[c] = alpha == 0.f ? d[c] : Blend(d[c], p[c], alpha);
    }
  }
}

// PIL's rgb2hsv_row and hsv2rgb (Convert.c), 8-bit.
inline void RgbToHsv(const uint8_t* in, uint8_t* out) {
  const uint8_t r = in[0], g = in[1], b = in[2];
  const uint8_t maxc = std::max(r, std::max(g, b)), minc = std::min(r, std::min(g, b));
  uint8_t uh = 0, us = 0;
  if (minc != maxc) {
    const float cr = static_cast<float>(maxc - minc);
    const float s = cr / static_cast<float>(maxc);
    const float rc = static_cast<float>(maxc - r) / cr, gc = static_cast<float>(maxc - g) / cr,
                bc = static_cast<float>(maxc - b) / cr;
    float h;
    if (r == maxc) h = bc - gc;
    else if (g == maxc) h = static_cast<float>(2.0 + rc - bc);
    else h = static_cast<float>(4.0 + gc - rc);
    h = static_cast<float>(std::fmod(h / 6.0 + 1.0, 1.0));
    uh = static_cast<uint8_t>(std::clamp(static_cast<int>(h * 255.0), 0, 255));
    us = static_cast<uint8_t>(std::clamp(static_cast<int>(s * 255.0), 0, 255));
  }
  out[0] = uh;
  out[1] = us;
  out[2] = maxc;
}

inline void HsvToRgb(const uint8_t* in, uint8_t* out) {
  const uint8_t h = in[0], s = in[1], v = in[2];
  if (s == 0) {
    out[0] = out[1] = out[2] = v;
    return;
  }
  const int i = static_cast<int>(std::floor(static_cast<float>(h) * 6.0 / 255.0));
  const float f = static_cast<float>(static_cast<float>(h) * 6.0 / 255.0 - static_cast<float>(i));
  const float fs = static_cast<float>(static_cast<float>(s) / 255.0);
  auto clip8 = [](double x) { return static_cast<uint8_t>(std::clamp(static_cast<int>(std::round(x)), 0, 255)); };
  const uint8_t p = clip8(static_cast<float>(v) * (1.0 - fs));
  const uint8_t q = clip8(static_cast<float>(v) * (1.0 - fs * f));
  const uint8_t t = clip8(static_cast<float>(v) * (1.0 - fs * (1.0 - f)));
  switch (i % 6) {
    case 0: out[0] = v, out[1] = t, out[2] = p; break;
    case 1: out[0] = q, out[1] = v, out[2] = p; break;
    case 2: out[0] = p, out[1] = v, out[2] = t; break;
    case 3: out[0] = p, out[1] = q, out[2] = v; break;
    case 4: out[0] = t, out[1] = p, out[2] = v; break;
    default: out[0] = v, out[1] = p, out[2] = q; break;
  }
}

void RequireRgb(const cv::Mat& m, const char* what) {
  if (m.type() != CV_8UC3) throw Error(std::string(what) + ": expected an RGB uint8 image");
}

}  // namespace

void FlowAugmentOptions::Check() const {
  Require(crop_height >= 16 && crop_height <= 8192, "crop_height: must be in 16..8192");
  Require(crop_width >= 16 && crop_width <= 8192, "crop_width: must be in 16..8192");
  Require(std::isfinite(min_scale) && std::isfinite(max_scale) && min_scale <= max_scale && min_scale >= -4 &&
              max_scale <= 4,
          "min_scale/max_scale: need -4 <= min_scale <= max_scale <= 4 (log2 scale)");
}

void AdjustBrightness(cv::Mat& rgb, double factor) {
  RequireRgb(rgb, "brightness");
  BlendWith(rgb, factor, [](const uint8_t*, uint8_t* d) { d[0] = d[1] = d[2] = 0; });
}

void AdjustContrast(cv::Mat& rgb, double factor) {
  RequireRgb(rgb, "contrast");
  double sum = 0;
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    int64_t row = 0;
    for (int x = 0; x < rgb.cols; ++x, p += 3) row += Luma(p);
    sum += static_cast<double>(row);
  }
  const double n = static_cast<double>(rgb.total());
  const uint8_t mean = static_cast<uint8_t>(static_cast<int>(sum / std::max(n, 1.0) + 0.5));
  BlendWith(rgb, factor, [mean](const uint8_t*, uint8_t* d) { d[0] = d[1] = d[2] = mean; });
}

void AdjustSaturation(cv::Mat& rgb, double factor) {
  RequireRgb(rgb, "saturation");
  BlendWith(rgb, factor, [](const uint8_t* p, uint8_t* d) { d[0] = d[1] = d[2] = Luma(p); });
}

void AdjustHue(cv::Mat& rgb, double hue_factor) {
  RequireRgb(rgb, "hue");
  if (!(hue_factor >= -0.5 && hue_factor <= 0.5)) throw Error("hue: factor must be in [-0.5, 0.5]");
  // np.uint8(hue_factor * 255): truncation toward zero, then modulo 256.
  const uint8_t shift = static_cast<uint8_t>(static_cast<int>(std::trunc(hue_factor * 255.0)) & 255);
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3) {
      uint8_t hsv[3];
      RgbToHsv(p, hsv);
      hsv[0] = static_cast<uint8_t>(hsv[0] + shift);
      HsvToRgb(hsv, p);
    }
  }
}

ColorJitterDraw DrawColorJitter(Rng& rng) {
  ColorJitterDraw d;
  d.brightness = rng.Uniform(1 - kJitter, 1 + kJitter);
  d.contrast = rng.Uniform(1 - kJitter, 1 + kJitter);
  d.saturation = rng.Uniform(1 - kJitter, 1 + kJitter);
  d.hue = rng.Uniform(-kHue, kHue);
  for (int i = 3; i > 0; --i) std::swap(d.order[i], d.order[rng.Below(i + 1)]);  // Fisher-Yates
  return d;
}

void ApplyColorJitter(cv::Mat& rgb, const ColorJitterDraw& d) {
  for (int op : d.order) {
    switch (op) {
      case 0: AdjustBrightness(rgb, d.brightness); break;
      case 1: AdjustContrast(rgb, d.contrast); break;
      case 2: AdjustSaturation(rgb, d.saturation); break;
      default: AdjustHue(rgb, d.hue); break;
    }
  }
}

FlowSample AugmentFlowSample(const FlowSample& in, const FlowAugmentOptions& o, Rng& rng, FlowAugmentDraws* draws) {
  o.Check();
  RequireRgb(in.image1, "augment image1");
  RequireRgb(in.image2, "augment image2");
  if (in.flow.type() != CV_32FC2 || in.flow.size() != in.image1.size() || in.image2.size() != in.image1.size())
    throw Error("augment: images and flow must have one size (flow CV_32FC2)");
  FlowAugmentDraws local;
  FlowAugmentDraws& dr = draws ? *draws : local;
  dr = FlowAugmentDraws{};
  cv::Mat img1 = in.image1.clone(), img2 = in.image2.clone(), flow = in.flow.clone();
  cv::Mat valid = in.valid.empty() ? cv::Mat(in.flow.size(), CV_8UC1, cv::Scalar(1)) : in.valid.clone();

  if (o.photometric) {
    // Colour.
    if (rng.Chance(kAsymmetricProb)) {
      dr.asymmetric = true;
      dr.jitter1 = DrawColorJitter(rng);
      ApplyColorJitter(img1, dr.jitter1);
      dr.jitter2 = DrawColorJitter(rng);
      ApplyColorJitter(img2, dr.jitter2);
    } else {
      cv::Mat stack;
      cv::vconcat(img1, img2, stack);
      dr.jitter1 = dr.jitter2 = DrawColorJitter(rng);
      ApplyColorJitter(stack, dr.jitter1);
      stack.rowRange(0, img1.rows).copyTo(img1);
      stack.rowRange(img1.rows, stack.rows).copyTo(img2);
    }
    // Eraser.
    if (rng.Chance(kEraserProb)) {
      const cv::Scalar mean = cv::mean(img2);
      const cv::Vec3b fill(static_cast<uint8_t>(mean[0]), static_cast<uint8_t>(mean[1]), static_cast<uint8_t>(mean[2]));
      dr.erased = static_cast<int>(rng.Randint(1, 3));
      for (int e = 0; e < dr.erased; ++e) {
        const int x0 = static_cast<int>(rng.Randint(0, img2.cols)), y0 = static_cast<int>(rng.Randint(0, img2.rows));
        const int dx = static_cast<int>(rng.Randint(kEraseMin, kEraseMax));
        const int dy = static_cast<int>(rng.Randint(kEraseMin, kEraseMax));
        img2(cv::Rect(x0, y0, std::min(dx, img2.cols - x0), std::min(dy, img2.rows - y0))).setTo(fill);
      }
    }
  }

  // Spatial.
  const int ht = img1.rows, wd = img1.cols;
  const double floor_scale =
      std::max((o.crop_height + 8) / static_cast<double>(ht), (o.crop_width + 8) / static_cast<double>(wd));
  dr.scale = std::pow(2.0, rng.Uniform(o.min_scale, o.max_scale));
  double sx = dr.scale, sy = dr.scale;
  if (rng.Chance(kStretchProb)) {
    dr.stretched = true;
    sx *= std::pow(2.0, rng.Uniform(-kMaxStretch, kMaxStretch));
    sy *= std::pow(2.0, rng.Uniform(-kMaxStretch, kMaxStretch));
  }
  sx = std::max(sx, floor_scale);
  sy = std::max(sy, floor_scale);
  dr.resized = rng.Chance(kSpatialProb);
  if (!dr.resized && (ht <= o.crop_height || wd <= o.crop_width)) {  // see the header: the original fails here
    dr.resized = true;
    sx = sy = std::max(floor_scale, 1.0);
  }
  if (dr.resized) {
    cv::resize(img1, img1, cv::Size(), sx, sy, cv::INTER_LINEAR);
    cv::resize(img2, img2, cv::Size(), sx, sy, cv::INTER_LINEAR);
    cv::resize(flow, flow, cv::Size(), sx, sy, cv::INTER_LINEAR);
    cv::resize(valid, valid, img1.size(), 0, 0, cv::INTER_NEAREST);
    cv::multiply(flow, cv::Scalar(sx, sy), flow);
  }
  dr.scale_x = dr.resized ? sx : 1.0;
  dr.scale_y = dr.resized ? sy : 1.0;
  if (o.do_flip) {
    if (rng.Chance(kHFlipProb)) {
      dr.hflip = true;
      for (cv::Mat* m : {&img1, &img2, &flow, &valid}) cv::flip(*m, *m, 1);
      cv::multiply(flow, cv::Scalar(-1.0, 1.0), flow);
    }
    if (rng.Chance(kVFlipProb)) {
      dr.vflip = true;
      for (cv::Mat* m : {&img1, &img2, &flow, &valid}) cv::flip(*m, *m, 0);
      cv::multiply(flow, cv::Scalar(1.0, -1.0), flow);
    }
  }
  if (img1.rows < o.crop_height || img1.cols < o.crop_width)
    throw Error("augment: frame " + std::to_string(img1.cols) + "x" + std::to_string(img1.rows) +
                " is smaller than the crop after scaling");
  dr.crop_y = static_cast<int>(rng.Randint(0, img1.rows - o.crop_height));
  dr.crop_x = static_cast<int>(rng.Randint(0, img1.cols - o.crop_width));
  const cv::Rect roi(dr.crop_x, dr.crop_y, o.crop_width, o.crop_height);
  FlowSample out;
  out.image1 = img1(roi).clone();
  out.image2 = img2(roi).clone();
  out.flow = flow(roi).clone();
  out.valid = valid(roi).clone();
  for (int y = 0; y < out.flow.rows; ++y) {  // the official valid rule on the final flow
    const cv::Vec2f* f = out.flow.ptr<cv::Vec2f>(y);
    uint8_t* v = out.valid.ptr<uint8_t>(y);
    for (int x = 0; x < out.flow.cols; ++x)
      v[x] = (v[x] && std::fabs(f[x][0]) < 1000.f && std::fabs(f[x][1]) < 1000.f) ? 1 : 0;
  }
  return out;
}

}  // namespace animerun::data
