// The generator's "varied" style: shaded, textured frames whose annotations stay exact
// (textures and shading move with their objects), determinism, and that the frames really
// vary far beyond the flat style.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include <opencv2/imgproc.hpp>

#include "core/data/animerun_dataset.h"
#include "core/data/synth.h"
#include "core/data/synth_paint.h"
#include "core/data/synth_render.h"
#include "core/data/synth_scene.h"
#include "core/data/synth_style.h"
#include "core/data/synth_test_util.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/io/image_io.h"
#include "test_paths.h"

namespace animerun::data {
namespace {

namespace fs = std::filesystem;
using test_util::LoadAll;
using test_util::RelativeFiles;

SynthOptions VariedOptions() {
  SynthOptions o;
  o.scenes = 6;
  o.frames = 3;
  o.width = 320;
  o.height = 180;
  o.seed = 21;
  o.style = "varied";
  o.degrade = false;  // exactness; the degradations are checked on their own
  return o;
}

const fs::path& VariedRoot() {
  static const fs::path root = [] {
    const fs::path dir = test::SharedScratchDir("synth_varied");
    GenerateSynthDataset(dir, VariedOptions());
    return dir;
  }();
  return root;
}

const std::vector<PairData>& VariedPairs() {
  static const std::vector<PairData> pairs = LoadAll(AnimeRunDataset::Open(VariedRoot()));
  return pairs;
}

// Pixels whose 5x5 neighbourhood lies in one segment and has no line pixel: there neither
// a hard edge (part, band, line) nor the blur of one reaches.
cv::Mat Interior(const cv::Mat& segments, const cv::Mat& line_area) {
  cv::Mat edge = line_area == 0;
  for (int y = 0; y < segments.rows; ++y)
    for (int x = 0; x < segments.cols; ++x) {
      const int s = segments.at<int>(y, x);
      if ((x + 1 < segments.cols && segments.at<int>(y, x + 1) != s) ||
          (y + 1 < segments.rows && segments.at<int>(y + 1, x) != s))
        edge.at<uchar>(y, x) = 255;
    }
  cv::dilate(edge, edge, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
  return edge == 0;
}

struct WarpError {
  double mean = 0;  // mean absolute difference per channel, grey levels
  int64_t n = 0;    // pixels compared
};

// Frame t against frame t+1 sampled bilinearly at p + f(p) + delta, over the visible pixels
// inside a segment (Interior) whose samples in t+1 are inside the matched segment too:
// only textures and shading can differ there. Only pixels that move (by 1 px or more) and
// where frame t changes by at least min_gradient grey levels per pixel count.
WarpError MeasureWarp(const PairData& d, cv::Vec2f delta, double min_gradient) {
  const cv::Mat in1 = Interior(d.segment1, d.line_area), in2 = Interior(d.segment2, d.contour2 / 255);
  const int w = d.image1.cols, h = d.image1.rows;
  cv::Mat grey, gx, gy;
  cv::cvtColor(d.image1, grey, cv::COLOR_RGB2GRAY);
  cv::Sobel(grey, gx, CV_32F, 1, 0);
  cv::Sobel(grey, gy, CV_32F, 0, 1);
  double sum = 0;
  WarpError e;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (!in1.at<uchar>(y, x) || d.unmatched_forward.at<uchar>(y, x) != 1) continue;
      if (std::hypot(gx.at<float>(y, x), gy.at<float>(y, x)) / 8 < min_gradient) continue;
      const int m = d.match_forward[static_cast<size_t>(d.segment1.at<int>(y, x))];
      if (m < 0) continue;
      const cv::Vec2f f = d.flow_forward.at<cv::Vec2f>(y, x);
      if (std::hypot(f[0], f[1]) < 1) continue;  // still pixels would prove nothing
      const double tx = x + f[0] + delta[0], ty = y + f[1] + delta[1];
      const int x0 = static_cast<int>(std::floor(tx)), y0 = static_cast<int>(std::floor(ty));
      if (x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= h) continue;
      bool ok = true;
      for (int j = 0; j < 2 && ok; ++j)
        for (int i = 0; i < 2 && ok; ++i)
          ok = in2.at<uchar>(y0 + j, x0 + i) && d.segment2.at<int>(y0 + j, x0 + i) == m;
      if (!ok) continue;
      const double ax = tx - x0, ay = ty - y0;
      for (int c = 0; c < 3; ++c) {
        auto v = [&](int j, int i) { return static_cast<double>(d.image2.at<cv::Vec3b>(y0 + j, x0 + i)[c]); };
        const double s = (1 - ay) * ((1 - ax) * v(0, 0) + ax * v(0, 1)) + ay * ((1 - ax) * v(1, 0) + ax * v(1, 1));
        sum += std::fabs(s - d.image1.at<cv::Vec3b>(y, x)[c]);
      }
      ++e.n;
    }
  e.mean = e.n ? sum / (3.0 * e.n) : 0;
  return e;
}

// Pooled over pairs: the true flow, and the flow off by one pixel (right, down).
struct WarpCheck {
  WarpError exact, shifted;
};

WarpCheck CheckWarp(const std::vector<PairData>& pairs, double min_gradient) {
  WarpCheck out;
  double exact_sum = 0, shifted_sum = 0;
  for (const auto& d : pairs) {
    const WarpError e = MeasureWarp(d, {0, 0}, min_gradient);
    exact_sum += e.mean * e.n, out.exact.n += e.n;
    for (const cv::Vec2f delta : {cv::Vec2f(1, 0), cv::Vec2f(0, 1)}) {
      const WarpError s = MeasureWarp(d, delta, min_gradient);
      shifted_sum += s.mean * s.n, out.shifted.n += s.n;
    }
  }
  out.exact.mean = out.exact.n ? exact_sum / out.exact.n : 0;
  out.shifted.mean = out.shifted.n ? shifted_sum / out.shifted.n : 0;
  return out;
}

TEST(SynthVaried, OptionsCheckTheStyle) {
  SynthOptions o;
  EXPECT_EQ(o.style, "flat");
  o.style = "varied";
  EXPECT_NO_THROW(o.Check());
  o.style = "fancy";
  EXPECT_THROW(o.Check(), Error);
}

void Print(const char* what, const WarpCheck& c) {
  std::printf("%s: error %.3f grey levels (%lld px), flow off by 1 px: %.3f (%lld px)\n", what, c.exact.mean,
              static_cast<long long>(c.exact.n), c.shifted.mean, static_cast<long long>(c.shifted.n));
}

// The general case (rotation, zoom, sub-pixel motion) on the written frames: textures and
// shading follow the flow up to bilinear interpolation error, on all interior pixels and on
// textured ones (at least 2 grey levels per pixel); the same flow off by one pixel must do
// far worse, or the check would prove nothing.
TEST(SynthVaried, BackwardWarpByForwardFlowReproducesFrame) {
  const auto& pairs = VariedPairs();
  const WarpCheck all = CheckWarp(pairs, 0), textured = CheckWarp(pairs, 2);
  Print("all interior pixels", all);
  Print("textured pixels", textured);

  ASSERT_GT(all.exact.n, static_cast<int64_t>(pairs.size() * 320 * 180 / 4));
  ASSERT_GT(textured.exact.n, static_cast<int64_t>(pairs.size() * 320 * 180 / 40));
  EXPECT_LT(all.exact.mean, 0.3);
  EXPECT_LT(textured.exact.mean, 1.15);
  EXPECT_GT(textured.shifted.mean, 3 * 1.15);
}

// With whole-pixel translations the flow needs no interpolation, so exactness can be
// checked exactly: every visible pixel that is not on a line (or its anti-aliased fringe)
// in either frame has exactly its colour at its target, textures, gradients, bands and
// highlights included; with the flow off by one pixel many of them do not.
TEST(SynthVaried, WholePixelMotionReproducesEveryVisiblePixelExactly) {
  int64_t n = 0, same = 0, shifted_n = 0, shifted_same = 0, edge_flips = 0;
  for (int scene = 0; scene < 4; ++scene) {
    synth::SceneSpec spec = synth::RandomScene(300 + scene, scene, 320, 180, 2, 1.0, 0);
    synth::SceneStyle style = synth::RandomStyle(400 + scene, &spec);
    style.noise_sigma = style.blur_sigma = 0;
    style.jpeg_quality = 0;
    for (size_t g = 0; g < spec.groups.size(); ++g) {
      synth::Trajectory& tr = spec.groups[g];
      const bool root = tr.parent < 0;
      const cv::Point2d p0 = tr.p0, vel = tr.vel;
      tr = synth::Trajectory();  // no rotation, zoom, acceleration or wobble
      tr.parent = root ? -1 : spec.groups[g].parent;
      if (!root) continue;
      tr.p0 = {std::round(p0.x), std::round(p0.y)};
      tr.vel = {std::round(vel.x), std::round(vel.y)};
      if (tr.vel == cv::Point2d(0, 0)) tr.vel = {static_cast<double>(1 + g % 3), static_cast<double>(g % 2)};
    }
    const synth::FrameMaps a = synth::RenderStyledFrame(spec, style, 0), b = synth::RenderStyledFrame(spec, style, 1);
    const cv::Mat ia = synth::StyledColourImage(spec, style, a, 0), ib = synth::StyledColourImage(spec, style, b, 0);
    const cv::Mat flow = synth::ExactFlow(a, b), visible = synth::VisibleMask(a, b, flow);
    for (int y = 0; y < ia.rows; ++y)
      for (int x = 0; x < ia.cols; ++x) {
        if (!visible.at<uchar>(y, x) || a.line.at<uchar>(y, x) || a.line_fringe.at<uchar>(y, x)) continue;
        const cv::Vec2f f = flow.at<cv::Vec2f>(y, x);
        ASSERT_EQ(f[0], std::round(f[0]));
        ASSERT_EQ(f[1], std::round(f[1]));
        const int tx = x + static_cast<int>(f[0]), ty = y + static_cast<int>(f[1]);
        if (tx + 1 < ib.cols && !b.line.at<uchar>(ty, tx + 1) && !b.line_fringe.at<uchar>(ty, tx + 1) &&
            b.region.at<int>(ty, tx + 1) == a.region.at<int>(y, x)) {
          ++shifted_n;
          shifted_same += ib.at<cv::Vec3b>(ty, tx + 1) == ia.at<cv::Vec3b>(y, x);
        }
        if (b.line.at<uchar>(ty, tx) || b.line_fringe.at<uchar>(ty, tx)) continue;
        // fillPoly may round an edge without a line 1/16 px differently after the shift.
        if (b.region.at<int>(ty, tx) != a.region.at<int>(y, x)) {
          ++edge_flips;
          continue;
        }
        ++n;
        same += ib.at<cv::Vec3b>(ty, tx) == ia.at<cv::Vec3b>(y, x);
      }
  }
  std::printf("whole-pixel motion: %lld of %lld visible pixels exact (%lld rasterised into another part); "
              "flow off by 1 px: %lld of %lld\n",
              static_cast<long long>(same), static_cast<long long>(n), static_cast<long long>(edge_flips),
              static_cast<long long>(shifted_same), static_cast<long long>(shifted_n));
  ASSERT_GT(n, 4 * 320 * 180 / 2);
  EXPECT_EQ(same, n);
  EXPECT_LT(edge_flips, n / 1000);
  EXPECT_LT(shifted_same, shifted_n * 8 / 10);
}

// Inside parts (objects without outlines meet others without a line, so being away from
// lines is not enough for the bilinear lookup of the backward flow to stay in one object).
TEST(SynthVaried, ForwardBackwardFlowsAreConsistent) {
  for (const auto& d : VariedPairs()) {
    const cv::Mat ok = Interior(d.segment1, d.line_area) & (d.unmatched_forward == 1);
    const cv::Mat ok2 = Interior(d.segment2, d.contour2 / 255);
    cv::Mat map(d.flow_forward.size(), CV_32FC2);
    for (int y = 0; y < map.rows; ++y)
      for (int x = 0; x < map.cols; ++x) map.at<cv::Vec2f>(y, x) = d.flow_forward.at<cv::Vec2f>(y, x) + cv::Vec2f(x, y);
    cv::Mat back;
    cv::remap(d.flow_backward, back, map, cv::noArray(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    int64_t n = 0, good = 0;
    for (int y = 0; y < map.rows; ++y)
      for (int x = 0; x < map.cols; ++x) {
        if (!ok.at<uchar>(y, x)) continue;
        const cv::Vec2f f = d.flow_forward.at<cv::Vec2f>(y, x), s = f + back.at<cv::Vec2f>(y, x);
        const int tx = static_cast<int>(std::floor(x + f[0] + 0.5)), ty = static_cast<int>(std::floor(y + f[1] + 0.5));
        if (!ok2.at<uchar>(ty, tx)) continue;
        ++n;
        good += std::hypot(s[0], s[1]) < 0.5;
      }
    ASSERT_GT(n, static_cast<int64_t>(d.flow_forward.total() / 4));
    EXPECT_GT(static_cast<double>(good) / n, 0.995);
  }
}

// Segments: ids contiguous and ordered by area, none straddles a line, and the matches
// follow the flow.
TEST(SynthVaried, SegmentsAndMatchesFollowPartsAndBands) {
  int64_t unlined_boundaries = 0;
  for (const auto& d : VariedPairs()) {
    const cv::Mat& seg = d.segment1;
    double hi = 0;
    cv::minMaxLoc(seg, nullptr, &hi);
    const int n = static_cast<int>(hi) + 1;
    ASSERT_EQ(d.match_forward.size(), static_cast<size_t>(n));
    std::vector<int64_t> area(static_cast<size_t>(n), 0);
    for (int i = 0; i < static_cast<int>(seg.total()); ++i) ++area[static_cast<size_t>(seg.ptr<int>()[i])];
    for (int s = 0; s < n; ++s) ASSERT_GT(area[static_cast<size_t>(s)], 0) << "ids are not contiguous";
    for (int s = 1; s < n; ++s) ASSERT_GE(area[static_cast<size_t>(s - 1)], area[static_cast<size_t>(s)]);
    ASSERT_EQ(cv::countNonZero((d.contour1 == 0) != (d.line_area == 0)), 0) << "contour and LineArea disagree";
    cv::Mat comp;
    cv::connectedComponents(d.contour1 == 255, comp, 4, CV_32S);
    std::map<int, int> seg_to_comp;
    for (int y = 0; y < seg.rows; ++y)
      for (int x = 0; x < seg.cols; ++x) {
        if (!d.line_area.at<uchar>(y, x)) continue;
        const int s = seg.at<int>(y, x), c = comp.at<int>(y, x);
        ASSERT_EQ(seg_to_comp.emplace(s, c).first->second, c) << "a segment straddles a line";
        if (x + 1 < seg.cols && d.line_area.at<uchar>(y, x + 1) && seg.at<int>(y, x + 1) != s) ++unlined_boundaries;
      }
    int64_t hits = 0, tried = 0;
    for (int y = 0; y < seg.rows; ++y)
      for (int x = 0; x < seg.cols; ++x) {
        const int m = d.match_forward[static_cast<size_t>(seg.at<int>(y, x))];
        if (m < 0 || d.unmatched_forward.at<uchar>(y, x) != 1 || !d.line_area.at<uchar>(y, x)) continue;
        const cv::Vec2f f = d.flow_forward.at<cv::Vec2f>(y, x);
        const int tx = static_cast<int>(std::floor(x + f[0] + 0.5)), ty = static_cast<int>(std::floor(y + f[1] + 0.5));
        ++tried;
        hits += d.segment2.at<int>(ty, tx) == m;
      }
    ASSERT_GT(tried, 0);
    EXPECT_GT(static_cast<double>(hits) / tried, 0.9);
  }
  // Shading bands and objects drawn without outlines meet without a line between them.
  EXPECT_GT(unlined_boundaries, 100);
}

// The per-frame camera degradations (noise, blur, JPEG) touch the frames only, inside
// parts by a few grey levels without a brightness bias, and only in some scenes.
TEST(SynthVaried, DegradationsAreSmallAndLeaveAnnotationsAlone) {
  SynthOptions o = VariedOptions();
  o.degrade = true;
  const fs::path dir = test::ScratchDir("degraded");
  GenerateSynthDataset(dir, o);
  const auto files = RelativeFiles(dir);
  ASSERT_EQ(files, RelativeFiles(VariedRoot()));
  std::set<std::string> degraded_scenes, clean_scenes;
  for (const auto& f : files) {
    const fs::path a = VariedRoot() / f, b = dir / f;
    if (f.find("Frame_Anime/") == std::string::npos) {
      EXPECT_EQ(ReadFileBytes(a), ReadFileBytes(b)) << f;
      continue;
    }
    // Inside segments, away from lines: blur changes edges a lot, by design.
    const fs::path frame = fs::path(f).filename(), scene_dir = fs::path(f).parent_path().parent_path();
    const std::string scene = scene_dir.filename().string();
    const fs::path split = VariedRoot() / scene_dir.parent_path().parent_path();
    const cv::Mat inside = Interior(io::ReadNpyLabels(split / "Segment" / scene / frame.stem().concat(".npy")),
                                    io::ReadImageGray(split / "contour" / scene / frame) / 255);
    cv::Mat clean, noisy;
    io::ReadImageRgb(a).convertTo(clean, CV_32FC3);
    io::ReadImageRgb(b).convertTo(noisy, CV_32FC3);
    const cv::Mat diff = noisy - clean;
    const cv::Scalar bias = cv::mean(diff, inside), mad = cv::mean(cv::abs(diff), inside);
    (mad[0] + mad[1] + mad[2] > 0 ? degraded_scenes : clean_scenes).insert(scene);
    for (int c = 0; c < 3; ++c) {
      EXPECT_LT(mad[c], 4.0) << f;
      EXPECT_LT(std::fabs(bias[c]), 0.5) << f;
    }
  }
  EXPECT_FALSE(degraded_scenes.empty());
  EXPECT_FALSE(clean_scenes.empty());
}

TEST(SynthVaried, DeterministicForASeed) {
  SynthOptions o = VariedOptions();
  o.scenes = 1;
  o.frames = 2;
  o.width = 192;
  o.height = 108;
  o.color_passes = 1;
  const fs::path a = test::ScratchDir("a"), b = test::ScratchDir("b"), c = test::ScratchDir("c");
  GenerateSynthDataset(a, o);
  GenerateSynthDataset(b, o);
  o.seed += 1;
  GenerateSynthDataset(c, o);
  const auto files = RelativeFiles(a);
  ASSERT_EQ(files, RelativeFiles(b));
  int differ = 0;
  for (const auto& f : files) {
    EXPECT_EQ(ReadFileBytes(a / f), ReadFileBytes(b / f)) << f;
    differ += ReadFileBytes(a / f) != ReadFileBytes(c / f);
  }
  EXPECT_GT(differ, static_cast<int>(files.size()) * 9 / 10);
  // A scene depends on the seed and its index only.
  o.seed -= 1;
  o.scenes = 2;
  const fs::path e = test::ScratchDir("e");
  GenerateSynthDataset(e, o);
  for (const char* f : {"test/Frame_Anime/synth_000/original/Image0001.png", "test/Flow/synth_000/forward/Image0000.flo"})
    EXPECT_EQ(ReadFileBytes(a / f), ReadFileBytes(e / f)) << f;
}

struct Look {
  int colours = 0;          // distinct RGB values in the frame
  double gradient = 0;      // mean |Sobel| / 8 (grey levels per px) inside the largest segments
  double line_fraction = 0;
  double mean_motion = 0;   // px, over all pixels of the pair
};

Look Measure(const PairData& d) {
  Look l;
  std::set<uint32_t> colours;
  for (int y = 0; y < d.image1.rows; ++y)
    for (int x = 0; x < d.image1.cols; ++x) {
      const cv::Vec3b c = d.image1.at<cv::Vec3b>(y, x);
      colours.insert(static_cast<uint32_t>(c[0]) << 16 | static_cast<uint32_t>(c[1]) << 8 | c[2]);
    }
  l.colours = static_cast<int>(colours.size());
  cv::Mat grey, gx, gy;
  cv::cvtColor(d.image1, grey, cv::COLOR_RGB2GRAY);
  cv::Sobel(grey, gx, CV_32F, 1, 0);
  cv::Sobel(grey, gy, CV_32F, 0, 1);
  const cv::Mat inside = Interior(d.segment1, d.line_area) & (d.segment1 < 3);  // the backdrop's largest parts
  double sum = 0;
  int64_t n = 0;
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x)
      if (inside.at<uchar>(y, x)) sum += std::hypot(gx.at<float>(y, x), gy.at<float>(y, x)) / 8.0, ++n;
  l.gradient = n ? sum / n : 0;
  l.line_fraction = cv::countNonZero(d.line_area == 0) / static_cast<double>(d.line_area.total());
  double motion = 0;
  for (int y = 0; y < d.flow_forward.rows; ++y)
    for (int x = 0; x < d.flow_forward.cols; ++x) motion += cv::norm(d.flow_forward.at<cv::Vec2f>(y, x));
  l.mean_motion = motion / d.flow_forward.total();
  return l;
}

// Many colours and textured backdrops in every frame (without the per-frame noise, which
// would add both by itself); line thickness, line colour, palette and motion changing from
// scene to scene.
TEST(SynthVaried, FramesVaryFarBeyondTheFlatStyle) {
  SynthOptions o = VariedOptions();
  o.scenes = 8;
  o.frames = 2;
  o.width = 256;
  o.height = 144;
  const fs::path varied = test::ScratchDir("varied"), flat = test::ScratchDir("flat");
  GenerateSynthDataset(varied, o);
  o.style = "flat";
  GenerateSynthDataset(flat, o);
  const auto vp = LoadAll(AnimeRunDataset::Open(varied)), fp = LoadAll(AnimeRunDataset::Open(flat));
  ASSERT_EQ(vp.size(), 8u);
  ASSERT_EQ(fp.size(), 8u);
  int flat_colours = 0;
  double flat_gradient = 0, min_motion = 1e9, max_motion = 0, min_lines = 1, max_lines = 0;
  for (const auto& d : fp) {
    const Look l = Measure(d);
    flat_colours = std::max(flat_colours, l.colours);
    flat_gradient = std::max(flat_gradient, l.gradient);
  }
  std::set<std::vector<uchar>> line_colours;
  double brightness_lo = 255, brightness_hi = 0;
  for (const auto& d : vp) {
    const Look l = Measure(d);
    std::printf("varied: %d colours, backdrop gradient %.2f, lines %.1f%%, motion %.1f px\n", l.colours, l.gradient,
                100 * l.line_fraction, l.mean_motion);
    EXPECT_GT(l.colours, 10 * flat_colours);
    EXPECT_GT(l.gradient, 0.3);
    min_motion = std::min(min_motion, l.mean_motion), max_motion = std::max(max_motion, l.mean_motion);
    min_lines = std::min(min_lines, l.line_fraction), max_lines = std::max(max_lines, l.line_fraction);
    const double b = cv::mean(d.image1)[0] + cv::mean(d.image1)[1] + cv::mean(d.image1)[2];
    brightness_lo = std::min(brightness_lo, b / 3), brightness_hi = std::max(brightness_hi, b / 3);
    // The commonest colour of the line pixels far from anything else: the line colour
    // (noise and blur spread it, so exact colours are counted on thick line cores only).
    std::map<std::vector<uchar>, int> counts;
    cv::Mat core;
    cv::erode(d.line_area == 0, core, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
    for (int y = 0; y < core.rows; ++y)
      for (int x = 0; x < core.cols; ++x)
        if (core.at<uchar>(y, x)) {
          const cv::Vec3b c = d.image1.at<cv::Vec3b>(y, x);
          ++counts[{static_cast<uchar>(c[0] / 16), static_cast<uchar>(c[1] / 16), static_cast<uchar>(c[2] / 16)}];
        }
    if (!counts.empty())
      line_colours.insert(std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second < b.second; })->first);
  }
  std::printf("flat: at most %d colours, backdrop gradient %.3f\n", flat_colours, flat_gradient);
  EXPECT_LT(flat_gradient, 0.01);  // flat colours: no gradient inside a segment
  EXPECT_GT(max_motion, 2.5 * min_motion);
  EXPECT_GT(max_lines, 2.0 * min_lines);
  EXPECT_GE(line_colours.size(), 2u);
  EXPECT_GT(brightness_hi - brightness_lo, 40);  // dark to light scenes
}

}  // namespace
}  // namespace animerun::data
