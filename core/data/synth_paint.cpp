#include "core/data/synth_paint.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/data/synth_rng.h"
#include "core/util/error.h"

namespace animerun::data::synth {

namespace {

// --- lattice noise -----------------------------------------------------------------------
// Integer hashing (not std:: facilities), so the same seed paints the same pixels everywhere.

inline uint32_t Hash(int32_t x, int32_t y, uint32_t seed) {
  uint32_t h = seed ^ (static_cast<uint32_t>(x) * 0x8DA6B343u) ^ (static_cast<uint32_t>(y) * 0xD8163841u);
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  return h;
}

inline double Unit(uint32_t h) { return h * (1.0 / 4294967296.0); }  // [0, 1)
inline double Fade(double t) { return t * t * t * (t * (t * 6 - 15) + 10); }  // C2 smooth
inline double Smoothstep(double e0, double e1, double x) {
  const double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

// Value noise in [-1, 1] on the unit lattice, C2-smooth between lattice points.
double ValueNoise(double x, double y, uint32_t seed) {
  const double fx = std::floor(x), fy = std::floor(y);
  const auto ix = static_cast<int32_t>(fx), iy = static_cast<int32_t>(fy);
  const double tx = Fade(x - fx), ty = Fade(y - fy);
  const double a = Unit(Hash(ix, iy, seed)), b = Unit(Hash(ix + 1, iy, seed));
  const double c = Unit(Hash(ix, iy + 1, seed)), d = Unit(Hash(ix + 1, iy + 1, seed));
  const double top = a + (b - a) * tx, bottom = c + (d - c) * tx;
  return 2 * (top + (bottom - top) * ty) - 1;
}

// Octaves of value noise, each at twice the frequency (and turned, so the lattices do not
// line up) and half the amplitude; about [-1, 1].
double Fbm(double x, double y, int octaves, uint32_t seed) {
  double sum = 0, amp = 1, norm = 0;
  for (int o = 0; o < octaves; ++o) {
    sum += amp * ValueNoise(x, y, seed + 0x9E3779B9u * static_cast<uint32_t>(o));
    norm += amp;
    amp *= 0.5;
    const double nx = 1.6 * x - 1.2 * y, ny = 1.2 * x + 1.6 * y;
    x = nx, y = ny;
  }
  return sum / norm;
}

// --- surfaces ----------------------------------------------------------------------------

// Per-surface constants, computed once per frame.
struct Prepared {
  double pattern_cos = 1, pattern_sin = 0;
  double highlight_cos = 1, highlight_sin = 0;
  double inv_noise = 0, inv_blotch = 0, inv_wobble = 0;
};

Prepared Prepare(const Surface& s) {
  Prepared q;
  q.pattern_cos = std::cos(s.pattern_angle), q.pattern_sin = std::sin(s.pattern_angle);
  q.highlight_cos = std::cos(s.highlight_angle), q.highlight_sin = std::sin(s.highlight_angle);
  q.inv_noise = 1.0 / std::max(1e-6, s.noise_scale);
  q.inv_blotch = 1.0 / std::max(1e-6, s.blotch_scale);
  q.inv_wobble = 1.0 / std::max(1e-6, s.wobble_scale);
  return q;
}

// Multiplier of a cell pattern at (x, y): the cell's tone, the joint tone in the joints,
// a smooth ramp between them.
double PatternTone(const Surface& s, const Prepared& q, double x, double y) {
  const double px = q.pattern_cos * x + q.pattern_sin * y, py = -q.pattern_sin * x + q.pattern_cos * y;
  const double row = std::floor(py / s.cell_h);
  const double fy = py - row * s.cell_h;
  double d = std::min(fy, s.cell_h - fy);  // distance to the nearest joint
  double col = 0;
  if (s.pattern != Surface::Pattern::kStripes) {
    const bool shifted = s.pattern == Surface::Pattern::kBricks && (static_cast<int64_t>(row) & 1);
    const double xx = px + (shifted ? 0.5 * s.cell_w : 0.0);
    col = std::floor(xx / s.cell_w);
    const double fx = xx - col * s.cell_w;
    d = std::min(d, std::min(fx, s.cell_w - fx));
  }
  const double joint = 1.0 - Smoothstep(s.joint, s.joint + s.joint_soft, d);
  const double cell = 1.0 + s.cell_tone_var * (2 * Unit(Hash(static_cast<int32_t>(col), static_cast<int32_t>(row),
                                                              s.seed ^ 0x1B873593u)) - 1);
  return cell + (s.joint_tone - cell) * joint;
}

// The colour multiplier, highlight weight and band of surface s at group coordinates (x, y).
void Paint(const Surface& s, const Prepared& q, double x, double y, cv::Vec4f* out, uchar* band) {
  cv::Vec3f m(1, 1, 1);
  if (s.grad_dir.x != 0 || s.grad_dir.y != 0) {
    const double t =
        std::clamp((x - s.grad_origin.x) * s.grad_dir.x + (y - s.grad_origin.y) * s.grad_dir.y, 0.0, 1.0);
    m = s.grad_from + (s.grad_to - s.grad_from) * static_cast<float>(t);
  }
  if (s.noise_octaves > 0)
    m *= static_cast<float>(1.0 + s.noise_amp * Fbm(x * q.inv_noise, y * q.inv_noise, s.noise_octaves, s.seed));
  if (s.blotch_amp > 0) {
    const double n = Fbm(x * q.inv_blotch, y * q.inv_blotch, 2, s.seed ^ 0xB5297A4Du);
    const float b = static_cast<float>(Smoothstep(-0.05, 0.25, n)) * s.blotch_amp;
    m = m.mul(cv::Vec3f(1, 1, 1) + (s.blotch_tone - cv::Vec3f(1, 1, 1)) * b);
  }
  if (s.pattern != Surface::Pattern::kNone) m *= static_cast<float>(PatternTone(s, q, x, y));
  uchar b = 0;
  if (s.bands > 0) {
    double v = ((x - s.centre.x) * s.shadow_dir.x + (y - s.centre.y) * s.shadow_dir.y) / s.radius;
    if (s.wobble_amp > 0) v += s.wobble_amp * ValueNoise(x * q.inv_wobble, y * q.inv_wobble, s.seed ^ 0x68E31DA4u);
    if (s.bands >= 2 && v > s.band_threshold[1]) b = 2;
    else if (v > s.band_threshold[0]) b = 1;
    if (b) m = m.mul(s.band_tone[b - 1]);
  }
  float highlight = 0;
  if (s.highlight) {
    const double dx = x - s.highlight_centre.x, dy = y - s.highlight_centre.y;
    const double ex = (q.highlight_cos * dx + q.highlight_sin * dy) / s.highlight_rx;
    const double ey = (-q.highlight_sin * dx + q.highlight_cos * dy) / s.highlight_ry;
    if (ex * ex + ey * ey <= 1.0) b = 3, highlight = s.highlight_strength;
  }
  *out = cv::Vec4f(m[0], m[1], m[2], highlight);
  *band = b;
}

// --- lines -------------------------------------------------------------------------------

void DrawLines(const SceneStyle& style, const std::vector<Affine>& inv, FrameMaps& f) {
  const int h = f.region.rows, w = f.region.cols;
  const std::vector<int>& obj = style.region_object;
  cv::Mat seeds(h, w, CV_8UC1, cv::Scalar(255));  // 0 on drawn boundary pixels (both sides)
  cv::Mat owner(h, w, CV_32SC1, cv::Scalar(-1));
  cv::Mat one_sided = cv::Mat::zeros(h, w, CV_8UC1);  // the pixel left of / above a boundary
  bool any = false;
  for (int y = 0; y < h; ++y) {
    const int* row = f.region.ptr<int>(y);
    const int* up = y > 0 ? f.region.ptr<int>(y - 1) : nullptr;
    const int* down = y + 1 < h ? f.region.ptr<int>(y + 1) : nullptr;
    for (int x = 0; x < w; ++x) {
      const int r = row[x];
      int best = -1;
      bool first_side = false;
      auto visit = [&](int q, bool mine) {
        if (q == r) return;
        best = std::max({best, obj[static_cast<size_t>(r)], obj[static_cast<size_t>(q)]});
        first_side |= mine;
      };
      if (x + 1 < w) visit(row[x + 1], true);
      if (down) visit(down[x], true);
      if (x > 0) visit(row[x - 1], false);
      if (up) visit(up[x], false);
      if (best < 0 || !style.lines[static_cast<size_t>(best)].drawn) continue;
      seeds.at<uchar>(y, x) = 0;
      owner.at<int>(y, x) = best;
      one_sided.at<uchar>(y, x) = first_side ? 1 : 0;
      any = true;
    }
  }
  f.line = cv::Mat::zeros(h, w, CV_8UC1);
  f.line_owner = cv::Mat(h, w, CV_32SC1, cv::Scalar(-1));
  f.line_fringe = cv::Mat::zeros(h, w, CV_8UC1);
  if (!any) return;
  cv::Mat dist, labels;
  cv::distanceTransform(seeds, dist, labels, cv::DIST_L2, cv::DIST_MASK_5, cv::DIST_LABEL_PIXEL);
  double max_label = 0;
  cv::minMaxLoc(labels, nullptr, &max_label);
  std::vector<int> label_owner(static_cast<size_t>(max_label) + 1, -1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (!seeds.at<uchar>(y, x)) label_owner[static_cast<size_t>(labels.at<int>(y, x))] = owner.at<int>(y, x);
  // A pixel within (thickness - 1) / 2 of the boundary pixels is on the stroke; with soft
  // lines the next pixels out get the stroke's colour in part (coverage falling to 0 at
  // kFringe px beyond), so strokes look anti-aliased and thicken smoothly.
  constexpr double kMaxHalf = 2.0 + 1e-6;  // (5 px - 1) / 2: the thickest stroke
  constexpr double kFringe = 0.7;
  const double reach = kMaxHalf + (style.soft_lines ? kFringe : 0.0);
  for (int y = 0; y < h; ++y) {
    const float* d = dist.ptr<float>(y);
    const int* lab = labels.ptr<int>(y);
    uchar* line = f.line.ptr<uchar>(y);
    uchar* fringe = f.line_fringe.ptr<uchar>(y);
    int* lo = f.line_owner.ptr<int>(y);
    for (int x = 0; x < w; ++x) {
      if (d[x] > reach) continue;
      const int o = label_owner[static_cast<size_t>(lab[x])];
      if (o < 0) continue;
      const LineStyle& ls = style.lines[static_cast<size_t>(o)];
      double thick = ls.width;
      if (ls.width_var > 0) {  // along the stroke, fixed to the owner
        const cv::Point2d u = inv[static_cast<size_t>(o)].Apply(cv::Point2d(x, y));
        thick *= 1.0 + ls.width_var * ValueNoise(u.x / ls.var_scale, u.y / ls.var_scale,
                                                 0x5BD1E995u * static_cast<uint32_t>(o + 1));
      }
      const double half = (thick - 1.0) / 2.0;
      const bool on = thick < 1.5 ? (d[x] == 0 && one_sided.at<uchar>(y, x) && owner.at<int>(y, x) == o)
                                  : d[x] <= half + 1e-6;
      if (on) {
        line[x] = 1, lo[x] = o;
      } else if (style.soft_lines) {
        // Thin one-sided strokes: the other boundary pixel is their fringe.
        const double cover = thick < 1.5 ? (d[x] == 0 ? 0.35 : 0.0) : std::min(1.0, (half + kFringe - d[x]) / kFringe);
        if (cover > 0) fringe[x] = cv::saturate_cast<uchar>(255 * 0.6 * cover), lo[x] = o;
      }
    }
  }
}

// --- degradations ------------------------------------------------------------------------

void Degrade(cv::Mat& img, const SceneStyle& style, int t, int pass) {
  if (style.blur_sigma > 0) cv::GaussianBlur(img, img, cv::Size(0, 0), style.blur_sigma, style.blur_sigma, cv::BORDER_REFLECT_101);
  if (style.noise_sigma > 0) {
    uint64_t s = style.frame_seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(t + 1)) ^
                 (0xC2B2AE3D27D4EB4Full * static_cast<uint64_t>(pass + 1));
    Rng rng(SplitMix64(s));
    // Irwin-Hall: the sum of four uniforms, scaled to unit variance; cheap and portable.
    const double k = std::sqrt(3.0) / 65536.0;
    uchar* p = img.ptr<uchar>();
    const size_t n = img.total() * img.channels();
    for (size_t i = 0; i < n; ++i) {
      const uint64_t r = rng.Next();
      const double u = static_cast<double>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
      const double noise = (u - 2 * 65535.0) * k;
      p[i] = cv::saturate_cast<uchar>(p[i] + style.noise_sigma * noise);
    }
  }
  if (style.jpeg_quality > 0) {
    cv::Mat bgr;
    cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
    std::vector<uchar> buf;
    if (!cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_QUALITY, style.jpeg_quality}))
      throw Error("synth: JPEG encoding failed");
    cv::cvtColor(cv::imdecode(buf, cv::IMREAD_COLOR), img, cv::COLOR_BGR2RGB);
  }
}

}  // namespace

FrameMaps RenderStyledFrame(const SceneSpec& spec, const SceneStyle& style, int t) {
  Require(style.surfaces.size() == spec.regions.size() && style.lines.size() == spec.groups.size(),
          "synth: the style does not belong to this scene");
  FrameMaps f = RasteriseFrame(spec, t);
  std::vector<Affine> inv(f.affines.size());
  for (size_t g = 0; g < inv.size(); ++g) inv[g] = f.affines[g].Inverse();
  std::vector<Prepared> prepared;
  prepared.reserve(style.surfaces.size());
  for (const Surface& s : style.surfaces) prepared.push_back(Prepare(s));
  const int h = f.region.rows, w = f.region.cols;
  f.band.create(h, w, CV_8UC1);
  f.shade.create(h, w, CV_32FC4);
  for (int y = 0; y < h; ++y) {
    const int* r = f.region.ptr<int>(y);
    const int* g = f.group.ptr<int>(y);
    uchar* band = f.band.ptr<uchar>(y);
    auto* shade = f.shade.ptr<cv::Vec4f>(y);
    for (int x = 0; x < w; ++x) {
      const auto ri = static_cast<size_t>(r[x]);
      const Affine& a = inv[static_cast<size_t>(g[x])];
      const double ux = a.a * x + a.b * y + a.tx, uy = a.c * x + a.d * y + a.ty;  // pixel centre in group space
      Paint(style.surfaces[ri], prepared[ri], ux, uy, &shade[x], &band[x]);
    }
  }
  DrawLines(style, inv, f);
  LabelFrameSegments(f);
  return f;
}

cv::Mat StyledColourImage(const SceneSpec& spec, const SceneStyle& style, const FrameMaps& frame, int pass) {
  const auto& pal = pass == 0 ? spec.palette : spec.recolours.at(static_cast<size_t>(pass - 1));
  std::vector<cv::Vec3f> base(spec.regions.size());
  for (size_t i = 0; i < base.size(); ++i) {
    const cv::Vec3b c = pal[static_cast<size_t>(spec.regions[i].material)];
    base[i] = cv::Vec3f(c[0], c[1], c[2]);
  }
  const int h = frame.region.rows, w = frame.region.cols;
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    const int* r = frame.region.ptr<int>(y);
    const uchar* line = frame.line.ptr<uchar>(y);
    const int* lo = frame.line_owner.ptr<int>(y);
    const uchar* fringe = frame.line_fringe.ptr<uchar>(y);
    const auto* shade = frame.shade.ptr<cv::Vec4f>(y);
    auto* out = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      if (line[x]) {
        out[x] = style.lines[static_cast<size_t>(lo[x])].colour;
        continue;
      }
      const cv::Vec4f& s = shade[x];
      const cv::Vec3f& b = base[static_cast<size_t>(r[x])];
      const float a = fringe[x] * (1.0f / 255.0f);
      const cv::Vec3b ink = a > 0 ? style.lines[static_cast<size_t>(lo[x])].colour : cv::Vec3b();
      for (int c = 0; c < 3; ++c) {
        float v = std::min(255.0f, b[c] * s[c]);
        v += (255.0f - v) * s[3];
        out[x][c] = cv::saturate_cast<uchar>(v + (ink[c] - v) * a);
      }
    }
  }
  Degrade(img, style, frame.t, pass);
  return img;
}

}  // namespace animerun::data::synth
