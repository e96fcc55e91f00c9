// RAFT's FlowAugmentor: PIL semantics of the colour jitter (reference values computed with
// Pillow 13 on the pattern below), geometry (after every spatial op the flow still maps
// image-1 pixels onto image 2), and the distributions of the random draws.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>

#include <opencv2/imgproc.hpp>

#include "core/data/flow_augment.h"

namespace animerun::data {
namespace {

cv::Mat Pattern() {
  cv::Mat img(12, 16, CV_8UC3);
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 16; ++x)
      img.at<cv::Vec3b>(y, x) = cv::Vec3b((37 * x + 11 * y * y + 5) % 256, (19 * x * y + 3 * y + 101) % 256,
                                          (53 * x + 7 * y + x * x) % 256);
  return img;
}

// Sum, sum of squares and an index-weighted sum: three numbers that pin an image down.
std::array<int64_t, 3> ChannelStats(const cv::Mat& img) {
  int64_t s = 0, s2 = 0, w = 0, i = 0;
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* p = img.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols * 3; ++x, ++i) {
      s += p[x];
      s2 += int64_t(p[x]) * p[x];
      w = (w + i * p[x]) % 1000003;
    }
  }
  return {s, s2, w};
}

TEST(ColorJitter, MatchesPillow) {
  EXPECT_EQ(ChannelStats(Pattern()), (std::array<int64_t, 3>{71376, 11845968, 16561}));
  struct Ref {
    void (*op)(cv::Mat&, double);
    double factor;
    std::array<int64_t, 3> want;
  };
  const Ref refs[] = {
      {AdjustBrightness, 1.3, {87956, 17374832, 808544}}, {AdjustBrightness, 0.7, {49697, 5757505, 635393}},
      {AdjustContrast, 1.25, {71196, 13006290, 10074}},   {AdjustContrast, 0.65, {71126, 10051786, 769835}},
      {AdjustSaturation, 1.35, {71071, 12882517, 892284}}, {AdjustSaturation, 0.6, {71187, 10549739, 966124}},
      {AdjustHue, 0.12, {71215, 11964215, 933740}},       {AdjustHue, -0.1, {71883, 11973555, 994591}},
  };
  for (const Ref& r : refs) {
    cv::Mat img = Pattern();
    r.op(img, r.factor);
    EXPECT_EQ(ChannelStats(img), r.want) << "factor " << r.factor;
  }
}

TEST(ColorJitter, DrawsFollowTheRanges) {
  Rng rng(3);
  const int n = 6000;
  double b = 0, c = 0, s = 0, h = 0;
  std::map<std::array<int, 4>, int> orders;
  for (int i = 0; i < n; ++i) {
    const ColorJitterDraw d = DrawColorJitter(rng);
    for (double f : {d.brightness, d.contrast, d.saturation}) {
      ASSERT_GE(f, 0.6);
      ASSERT_LT(f, 1.4);
    }
    ASSERT_GE(d.hue, -0.5 / 3.14);
    ASSERT_LT(d.hue, 0.5 / 3.14);
    b += d.brightness, c += d.contrast, s += d.saturation, h += d.hue;
    ++orders[d.order];
  }
  // Uniform: means at the centre (sd of the mean ~0.003 for the factors).
  EXPECT_NEAR(b / n, 1.0, 0.015);
  EXPECT_NEAR(c / n, 1.0, 0.015);
  EXPECT_NEAR(s / n, 1.0, 0.015);
  EXPECT_NEAR(h / n, 0.0, 0.006);
  ASSERT_EQ(orders.size(), 24u);  // every permutation of the four ops
  for (const auto& [order, count] : orders) EXPECT_NEAR(count, n / 24.0, 5 * std::sqrt(n / 24.0));
}

// A smooth pattern and an affine motion: image 2 is image 1 moved by q = A p + t, so the
// forward flow at p is (A - I) p + t, known everywhere.
FlowSample AffinePair(int w, int h) {
  const double a = 1.04, b = 0.03, c = -0.02, d = 0.97, tx = 5.5, ty = -3.25;
  auto f = [](double x, double y, int ch) {
    return 127.5 + 60 * std::sin(0.11 * x + 0.07 * y + ch) + 50 * std::cos(0.05 * x - 0.13 * y + 2 * ch);
  };
  const double det = a * d - b * c;
  FlowSample s;
  s.image1.create(h, w, CV_8UC3);
  s.image2.create(h, w, CV_8UC3);
  s.flow.create(h, w, CV_32FC2);
  s.valid = cv::Mat(h, w, CV_8UC1, cv::Scalar(1));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      // image 2 at q shows image 1 at p = A^-1 (q - t).
      const double qx = x - tx, qy = y - ty;
      const double px = (d * qx - b * qy) / det, py = (-c * qx + a * qy) / det;
      for (int ch = 0; ch < 3; ++ch) {
        s.image1.at<cv::Vec3b>(y, x)[ch] = cv::saturate_cast<uint8_t>(f(x, y, ch));
        s.image2.at<cv::Vec3b>(y, x)[ch] = cv::saturate_cast<uint8_t>(f(px, py, ch));
      }
      s.flow.at<cv::Vec2f>(y, x) = cv::Vec2f(static_cast<float>((a - 1) * x + b * y + tx),
                                             static_cast<float>(c * x + (d - 1) * y + ty));
    }
  return s;
}

// Mean |image1(p) - image2(p + flow(p))| over pixels whose target lies inside image 2.
double SampleWarpError(const FlowSample& s) {
  cv::Mat map(s.flow.size(), CV_32FC2);
  for (int y = 0; y < s.flow.rows; ++y)
    for (int x = 0; x < s.flow.cols; ++x) {
      const cv::Vec2f f = s.flow.at<cv::Vec2f>(y, x);
      map.at<cv::Vec2f>(y, x) = cv::Vec2f(x + f[0], y + f[1]);
    }
  cv::Mat warped;
  cv::remap(s.image2, warped, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(-1));
  double sum = 0;
  int64_t n = 0;
  for (int y = 0; y < s.flow.rows; ++y)
    for (int x = 0; x < s.flow.cols; ++x) {
      const cv::Vec2f m = map.at<cv::Vec2f>(y, x);
      if (m[0] < 1 || m[1] < 1 || m[0] > s.flow.cols - 2 || m[1] > s.flow.rows - 2) continue;
      for (int ch = 0; ch < 3; ++ch)
        sum += std::abs(int(warped.at<cv::Vec3b>(y, x)[ch]) - int(s.image1.at<cv::Vec3b>(y, x)[ch]));
      n += 3;
    }
  return n ? sum / n : 1e9;
}

TEST(FlowAugment, SpatialOpsKeepTheFlowConsistent) {
  const FlowSample pair = AffinePair(160, 120);
  ASSERT_LT(SampleWarpError(pair), 1.5);  // the construction itself
  FlowSample broken = pair;  // a sign error would be seen
  broken.flow = cv::Mat();    // a new buffer: pair shares the old one
  cv::multiply(pair.flow, cv::Scalar(-1.0, 1.0), broken.flow);
  ASSERT_GT(SampleWarpError(broken), 10.0);

  FlowAugmentOptions o;
  o.crop_height = 64;
  o.crop_width = 96;
  o.photometric = false;  // geometry only: the images must still agree through the flow
  bool seen_h = false, seen_v = false, seen_resize = false, seen_plain = false, seen_stretch = false;
  for (uint64_t seed = 0; seed < 80; ++seed) {
    Rng rng(seed);
    FlowAugmentDraws d;
    const FlowSample out = AugmentFlowSample(pair, o, rng, &d);
    ASSERT_EQ(out.image1.size(), cv::Size(96, 64));
    ASSERT_EQ(out.flow.size(), cv::Size(96, 64));
    EXPECT_LT(SampleWarpError(out), 3.0) << "seed " << seed << " resize " << d.resized << " (" << d.scale_x << ", "
                                   << d.scale_y << ") hflip " << d.hflip << " vflip " << d.vflip;
    EXPECT_EQ(cv::countNonZero(out.valid), 64 * 96);
    seen_h |= d.hflip, seen_v |= d.vflip, seen_resize |= d.resized, seen_plain |= !d.resized,
        seen_stretch |= d.stretched && d.resized && d.scale_x != d.scale_y;
  }
  EXPECT_TRUE(seen_h && seen_v && seen_resize && seen_plain && seen_stretch);
}

TEST(FlowAugment, FlipNegatesTheMatchingComponent) {
  FlowSample pair = AffinePair(64, 48);
  FlowAugmentOptions o;
  o.crop_height = 16;
  o.crop_width = 16;
  o.photometric = false;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    Rng rng(seed);
    FlowAugmentDraws d;
    const FlowSample out = AugmentFlowSample(pair, o, rng, &d);
    if (d.resized || !(d.hflip || d.vflip)) continue;
    // Unscaled: the output pixel (x, y) of the crop is source pixel (sx, sy).
    const int sx = d.hflip ? 63 - (d.crop_x + 3) : d.crop_x + 3, sy = d.vflip ? 47 - (d.crop_y + 5) : d.crop_y + 5;
    const cv::Vec2f src = pair.flow.at<cv::Vec2f>(sy, sx), got = out.flow.at<cv::Vec2f>(5, 3);
    EXPECT_FLOAT_EQ(got[0], d.hflip ? -src[0] : src[0]);
    EXPECT_FLOAT_EQ(got[1], d.vflip ? -src[1] : src[1]);
  }
}

TEST(FlowAugment, DrawFrequenciesFollowTheOriginal) {
  const FlowSample pair = AffinePair(48, 40);
  FlowAugmentOptions o;
  o.crop_height = 16;
  o.crop_width = 16;
  const int n = 3000;
  int asym = 0, erased = 0, stretched = 0, resized = 0, hflip = 0, vflip = 0;
  double log_scale = 0;
  for (int i = 0; i < n; ++i) {
    Rng rng(1000 + i);
    FlowAugmentDraws d;
    AugmentFlowSample(pair, o, rng, &d);
    asym += d.asymmetric, erased += d.erased > 0, stretched += d.stretched, resized += d.resized;
    hflip += d.hflip, vflip += d.vflip;
    ASSERT_GE(std::log2(d.scale), -0.2);
    ASSERT_LT(std::log2(d.scale), 0.6);
    log_scale += std::log2(d.scale);
    if (d.erased) ASSERT_TRUE(d.erased == 1 || d.erased == 2);
  }
  auto near = [&](int count, double p) { return std::abs(count - n * p) < 4.5 * std::sqrt(n * p * (1 - p)); };
  EXPECT_TRUE(near(asym, 0.2)) << asym;
  EXPECT_TRUE(near(erased, 0.5)) << erased;
  EXPECT_TRUE(near(stretched, 0.8)) << stretched;
  EXPECT_TRUE(near(resized, 0.8)) << resized;
  EXPECT_TRUE(near(hflip, 0.5)) << hflip;
  EXPECT_TRUE(near(vflip, 0.1)) << vflip;
  EXPECT_NEAR(log_scale / n, 0.2, 0.02);  // uniform on [-0.2, 0.6]
}

TEST(FlowAugment, SymmetricJitterUsesOneDrawForBoth) {
  // Two identical frames stay identical under the symmetric jitter (and differ under the
  // asymmetric one), and a crop never leaves the frame.
  FlowSample s;
  s.image1 = Pattern();
  cv::resize(s.image1, s.image1, cv::Size(80, 60), 0, 0, cv::INTER_NEAREST);
  s.image2 = s.image1.clone();
  s.flow = cv::Mat(60, 80, CV_32FC2, cv::Scalar(0, 0));
  FlowAugmentOptions o;
  o.crop_height = 32;
  o.crop_width = 48;
  int symmetric = 0, asymmetric_differs = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Rng rng(seed);
    FlowAugmentDraws d;
    const FlowSample out = AugmentFlowSample(s, o, rng, &d);
    if (d.erased) continue;  // the eraser only touches image 2
    const double diff = cv::norm(out.image1, out.image2, cv::NORM_L1);
    if (!d.asymmetric) {
      EXPECT_EQ(diff, 0.0) << "seed " << seed;
      ++symmetric;
    } else if (diff > 0) {
      ++asymmetric_differs;
    }
  }
  EXPECT_GT(symmetric, 5);
  EXPECT_GE(asymmetric_differs, 1);
}

TEST(FlowAugment, ValidMaskFollowsTheFlowRule) {
  FlowSample s = AffinePair(64, 48);
  s.flow.at<cv::Vec2f>(20, 30) = cv::Vec2f(2000.f, 0.f);  // beyond the |u| < 1000 rule
  FlowAugmentOptions o;
  o.crop_height = 40;
  o.crop_width = 56;
  o.photometric = false;
  o.do_flip = false;
  o.min_scale = o.max_scale = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed);
    FlowAugmentDraws d;
    const FlowSample out = AugmentFlowSample(s, o, rng, &d);
    for (int y = 0; y < out.flow.rows; ++y)
      for (int x = 0; x < out.flow.cols; ++x) {
        const cv::Vec2f f = out.flow.at<cv::Vec2f>(y, x);
        const bool ok = std::abs(f[0]) < 1000 && std::abs(f[1]) < 1000;
        if (!ok) EXPECT_EQ(out.valid.at<uint8_t>(y, x), 0);
      }
  }
}

}  // namespace
}  // namespace animerun::data
