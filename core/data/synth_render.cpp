#include "core/data/synth_render.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/segments/segmentation.h"
#include "core/util/error.h"

namespace animerun::data::synth {

namespace {

constexpr int kShift = 4;  // sub-pixel bits for cv::fillPoly

void Rasterise(const SceneSpec& spec, const std::vector<Affine>& affines, cv::Mat& region) {
  region.create(spec.height, spec.width, CV_32SC1);
  region.setTo(0);
  std::vector<std::vector<cv::Point>> pts(1);
  const double one = 1 << kShift;
  for (const Shape& s : spec.shapes) {
    const Affine& A = affines[static_cast<size_t>(spec.regions[static_cast<size_t>(s.region)].group)];
    auto& p = pts[0];
    p.clear();
    double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
    for (const auto& v : s.polygon) {
      const cv::Point2d q = A.Apply(v);
      x0 = std::min(x0, q.x), x1 = std::max(x1, q.x), y0 = std::min(y0, q.y), y1 = std::max(y1, q.y);
      // Clamp far-away vertices so fixed-point coordinates stay in int range.
      const double cx = std::clamp(q.x, -1e6, 1e6), cy = std::clamp(q.y, -1e6, 1e6);
      p.emplace_back(static_cast<int>(std::lround(cx * one)), static_cast<int>(std::lround(cy * one)));
    }
    if (x1 < -1 || y1 < -1 || x0 > spec.width || y0 > spec.height) continue;  // off-screen
    cv::fillPoly(region, pts, cv::Scalar(s.region), cv::LINE_8, kShift);
  }
}

// 1 where a 4-neighbour belongs to another region: a 2-px line along every boundary. Width
// 1 marks only the pixel left of / above a boundary; wider lines dilate the 2-px line.
cv::Mat Lines(const cv::Mat& region, int width) {
  const int h = region.rows, w = region.cols;
  cv::Mat line = cv::Mat::zeros(h, w, CV_8UC1);
  cv::Mat ne;
  if (w > 1) {
    cv::compare(region.colRange(0, w - 1), region.colRange(1, w), ne, cv::CMP_NE);
    cv::Mat l = line.colRange(0, w - 1), r = line.colRange(1, w);
    cv::bitwise_or(l, ne, l);
    if (width >= 2) cv::bitwise_or(r, ne, r);
  }
  if (h > 1) {
    cv::compare(region.rowRange(0, h - 1), region.rowRange(1, h), ne, cv::CMP_NE);
    cv::Mat u = line.rowRange(0, h - 1), d = line.rowRange(1, h);
    cv::bitwise_or(u, ne, u);
    if (width >= 2) cv::bitwise_or(d, ne, d);
  }
  if (width > 2) {
    const int k = width - 1;
    cv::dilate(line, line, cv::getStructuringElement(cv::MORPH_RECT, {k, k}));
  }
  return line / 255;  // 0/1
}

}  // namespace

// Segments by the rule the segmenter uses on any frame (core/segments/segmentation.h), so
// that segmenting a flat generated frame gives back its ground truth exactly. With bands
// (varied style) the components must also keep one (region, band) key: lines need not
// separate regions there (objects without outlines), and shading bands are segments.
void LabelFrameSegments(FrameMaps& f) {
  cv::Mat key;
  if (!f.band.empty()) {
    key.create(f.region.size(), CV_8UC3);
    const int* reg = f.region.ptr<int>();
    const uchar* bd = f.band.ptr<uchar>();
    auto* k = key.ptr<cv::Vec3b>();
    for (size_t i = 0; i < f.region.total(); ++i) {
      if (reg[i] >= (1 << 22)) throw Error("synth: too many regions for the segment key (4M at most)");
      const uint32_t v = static_cast<uint32_t>(reg[i]) * 4u + bd[i];
      k[i] = cv::Vec3b(static_cast<uchar>(v), static_cast<uchar>(v >> 8), static_cast<uchar>(v >> 16));
    }
  }
  f.segments = segments::LabelSegments(f.line, 0, key);
  double hi = 0;
  cv::minMaxLoc(f.segments, nullptr, &hi);
  const size_t n = static_cast<size_t>(hi) + 1;
  // Region of each segment: that of its first non-line pixel (its first pixel when it has
  // none, which happens only for the single segment of an all-line frame).
  f.segment_region.assign(n, -1);
  f.segment_band.assign(n, 0);
  std::vector<int> any(n, -1), any_band(n, 0);
  const int* lab = f.segments.ptr<int>();
  const int* reg = f.region.ptr<int>();
  const uchar* ln = f.line.ptr<uchar>();
  const uchar* bd = f.band.empty() ? nullptr : f.band.ptr<uchar>();
  const size_t total = f.segments.total();
  for (size_t i = 0; i < total; ++i) {
    const auto s = static_cast<size_t>(lab[i]);
    const int b = bd ? bd[i] : 0;
    if (any[s] < 0) any[s] = reg[i], any_band[s] = b;
    if (f.segment_region[s] < 0 && !ln[i]) f.segment_region[s] = reg[i], f.segment_band[s] = b;
  }
  for (size_t s = 0; s < n; ++s)
    if (f.segment_region[s] < 0) f.segment_region[s] = any[s], f.segment_band[s] = any_band[s];
}

FrameMaps RasteriseFrame(const SceneSpec& spec, int t) {
  FrameMaps f;
  f.t = t;
  f.affines = spec.GroupAffines(t);
  Rasterise(spec, f.affines, f.region);
  f.group.create(f.region.size(), CV_32SC1);
  const int* r = f.region.ptr<int>();
  int* g = f.group.ptr<int>();
  const size_t n = f.region.total();
  for (size_t i = 0; i < n; ++i) g[i] = spec.regions[static_cast<size_t>(r[i])].group;
  return f;
}

FrameMaps RenderFrame(const SceneSpec& spec, int t, int line_width) {
  FrameMaps f = RasteriseFrame(spec, t);
  f.line = Lines(f.region, line_width);
  LabelFrameSegments(f);
  return f;
}

cv::Mat ColourImage(const SceneSpec& spec, const FrameMaps& frame, int pass) {
  const auto& pal = pass == 0 ? spec.palette : spec.recolours.at(static_cast<size_t>(pass - 1));
  std::vector<cv::Vec3b> lut(spec.regions.size());
  for (size_t i = 0; i < spec.regions.size(); ++i) lut[i] = pal[static_cast<size_t>(spec.regions[i].material)];
  cv::Mat img(frame.region.size(), CV_8UC3);
  const int* r = frame.region.ptr<int>();
  const uchar* ln = frame.line.ptr<uchar>();
  auto* out = img.ptr<cv::Vec3b>();
  const size_t n = frame.region.total();
  for (size_t i = 0; i < n; ++i) out[i] = ln[i] ? spec.line_color : lut[static_cast<size_t>(r[i])];
  return img;
}

cv::Mat ContourImage(const FrameMaps& frame) { return (frame.line == 0); }  // 255 flat, 0 line

cv::Mat LineAreaMask(const FrameMaps& frame) { return (frame.line == 0) / 255; }

cv::Mat ExactFlow(const FrameMaps& from, const FrameMaps& to) {
  // Per group, the affine part of M - I with M = A_to * A_from^-1.
  std::vector<Affine> d(from.affines.size());
  for (size_t g = 0; g < d.size(); ++g) {
    d[g] = to.affines[g] * from.affines[g].Inverse();
    d[g].a -= 1.0;
    d[g].d -= 1.0;
  }
  const int h = from.region.rows, w = from.region.cols;
  cv::Mat flow(h, w, CV_32FC2);
  for (int y = 0; y < h; ++y) {
    const int* g = from.group.ptr<int>(y);
    auto* f = flow.ptr<cv::Vec2f>(y);
    for (int x = 0; x < w; ++x) {
      const Affine& m = d[static_cast<size_t>(g[x])];
      f[x] = cv::Vec2f(static_cast<float>(m.a * x + m.b * y + m.tx), static_cast<float>(m.c * x + m.d * y + m.ty));
    }
  }
  return flow;
}

cv::Mat VisibleMask(const FrameMaps& from, const FrameMaps& to, const cv::Mat& flow) {
  const int h = from.region.rows, w = from.region.cols;
  cv::Mat vis = cv::Mat::zeros(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y) {
    const int* g = from.group.ptr<int>(y);
    const auto* f = flow.ptr<cv::Vec2f>(y);
    uchar* v = vis.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) {
      const double tx = std::floor(x + static_cast<double>(f[x][0]) + 0.5);
      const double ty = std::floor(y + static_cast<double>(f[x][1]) + 0.5);
      if (tx < 0 || ty < 0 || tx >= w || ty >= h) continue;
      v[x] = to.group.at<int>(static_cast<int>(ty), static_cast<int>(tx)) == g[x] ? 1 : 0;
    }
  }
  return vis;
}

std::vector<int> MatchSegments(const FrameMaps& from, const FrameMaps& to, const cv::Mat& flow,
                               const cv::Mat& visible) {
  const size_t n_from = from.segment_region.size();
  // votes[kind][i]: (target segment, count) pairs; kind 0 = non-line pixels, 1 = line.
  std::vector<std::vector<std::pair<int, int>>> votes[2];
  votes[0].resize(n_from);
  votes[1].resize(n_from);
  const int h = from.region.rows, w = from.region.cols;
  for (int y = 0; y < h; ++y) {
    const int* s = from.segments.ptr<int>(y);
    const uchar* ln = from.line.ptr<uchar>(y);
    const uchar* v = visible.ptr<uchar>(y);
    const auto* f = flow.ptr<cv::Vec2f>(y);
    for (int x = 0; x < w; ++x) {
      if (!v[x]) continue;
      const int tx = static_cast<int>(std::floor(x + static_cast<double>(f[x][0]) + 0.5));
      const int ty = static_cast<int>(std::floor(y + static_cast<double>(f[x][1]) + 0.5));
      const int j = to.segments.at<int>(ty, tx);  // in range: visible implies inside
      auto& list = votes[ln[x] ? 1 : 0][static_cast<size_t>(s[x])];
      auto it = std::find_if(list.begin(), list.end(), [j](const auto& e) { return e.first == j; });
      if (it == list.end()) list.emplace_back(j, 1);
      else ++it->second;
    }
  }
  std::vector<int> match(n_from, -1);
  for (size_t i = 0; i < n_from; ++i) {
    const auto& list = votes[0][i].empty() ? votes[1][i] : votes[0][i];
    int best = -1, best_count = 0;
    for (const auto& [j, c] : list)
      if (c > best_count || (c == best_count && j < best)) best = j, best_count = c;
    if (best >= 0 && from.segment_region[i] == to.segment_region[static_cast<size_t>(best)] &&
        from.segment_band[i] == to.segment_band[static_cast<size_t>(best)])
      match[i] = best;
  }
  return match;
}

}  // namespace animerun::data::synth
