// Drawing a scene's varied look from the style seed, a random stream of its own (the
// scene's geometry comes from the scene builder, synth_scene.h).
#include "core/data/synth_style.h"

#include <algorithm>
#include <cmath>

#include "core/data/synth_rng.h"

namespace animerun::data::synth {

namespace {

using K = RegionKind;

bool IsBackground(RegionKind k) { return k < RegionKind::kSkin; }

void RgbToHsv(const cv::Vec3b& c, double* h, double* s, double* v) {
  const double r = c[0] / 255.0, g = c[1] / 255.0, b = c[2] / 255.0;
  const double hi = std::max({r, g, b}), lo = std::min({r, g, b}), d = hi - lo;
  *v = hi;
  *s = hi > 0 ? d / hi : 0;
  if (d <= 0) *h = 0;
  else if (hi == r) *h = 60 * std::fmod((g - b) / d + 6.0, 6.0);
  else if (hi == g) *h = 60 * ((b - r) / d + 2);
  else *h = 60 * ((r - g) / d + 4);
}

// Hue a moved a fraction w of the way towards hue b, the short way round.
double BlendHue(double a, double b, double w) {
  double d = std::fmod(b - a + 540.0, 360.0) - 180.0;
  return a + w * d;
}

cv::Vec3f Tone(double v) { return cv::Vec3f(static_cast<float>(v), static_cast<float>(v), static_cast<float>(v)); }
cv::Vec3f Tone(double r, double g, double b) {
  return cv::Vec3f(static_cast<float>(r), static_cast<float>(g), static_cast<float>(b));
}

struct Extent {
  double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
  bool Empty() const { return x1 < x0; }
  cv::Point2d Centre() const { return Empty() ? cv::Point2d(0, 0) : cv::Point2d((x0 + x1) / 2, (y0 + y1) / 2); }
  double Radius() const { return Empty() ? 1.0 : std::max(1.0, 0.5 * std::hypot(x1 - x0, y1 - y0)); }
};

class StyleBuilder {
 public:
  StyleBuilder(uint64_t seed, SceneSpec* spec) : rng_(seed), spec_(*spec) {
    k_ = std::sqrt(static_cast<double>(spec_.width) * spec_.height / (960.0 * 540.0));
    h_ = spec_.height;
  }

  SceneStyle Build() {
    Objects();
    SceneLook();
    ApplyMood();
    LineStyles();
    style_.surfaces.reserve(spec_.regions.size());
    for (size_t r = 0; r < spec_.regions.size(); ++r) style_.surfaces.push_back(MakeSurface(r));
    return std::move(style_);
  }

 private:
  void Objects() {
    const size_t ng = spec_.groups.size();
    root_.resize(ng);
    for (size_t g = 0; g < ng; ++g) {
      const int p = spec_.groups[g].parent;
      root_[g] = p < 0 ? static_cast<int>(g) : root_[static_cast<size_t>(p)];
    }
    style_.region_object.resize(spec_.regions.size());
    for (size_t r = 0; r < spec_.regions.size(); ++r)
      style_.region_object[r] = root_[static_cast<size_t>(spec_.regions[r].group)];
    extent_.assign(spec_.regions.size(), Extent());
    for (const Shape& s : spec_.shapes) {
      Extent& e = extent_[static_cast<size_t>(s.region)];
      for (const auto& v : s.polygon) {
        e.x0 = std::min(e.x0, v.x), e.x1 = std::max(e.x1, v.x);
        e.y0 = std::min(e.y0, v.y), e.y1 = std::max(e.y1, v.y);
      }
    }
  }

  // Scene-wide choices: mood, light, shadow colours, line look, camera degradations.
  void SceneLook() {
    const double m = rng_.Uniform();
    style_.mood = m < 0.35 ? "normal" : m < 0.55 ? "saturated" : m < 0.7 ? "pastel" : m < 0.85 ? "dark" : "warm";
    // The light comes mostly from above: shadows fall downwards, to one side.
    const double a = rng_.Chance(0.8) ? CV_PI / 2 + rng_.Uniform(-1.3, 1.3) : rng_.Uniform(0, 2 * CV_PI);
    shadow_dir_ = {std::cos(a), std::sin(a)};
    static const cv::Vec3f kTints[] = {{1.0f, 1.0f, 1.0f}, {0.92f, 0.95f, 1.1f}, {1.06f, 0.95f, 0.88f},
                                       {1.0f, 0.9f, 1.1f}};
    const cv::Vec3f tint = kTints[rng_.Int(0, 3)];
    shade1_ = tint * static_cast<float>(rng_.Uniform(0.62, 0.85));
    shade2_ = shade1_ * static_cast<float>(rng_.Uniform(0.72, 0.88));
    line_width_ = std::exp(rng_.Uniform(0.0, std::log(4.2)));
    line_scheme_ = rng_.Int(0, 9);  // 0-4 ink, 5-7 tinted per object, 8-9 one coloured ink
    const double inks[] = {20, 220, 350, 270};
    ink_ = HsvToRgb(inks[rng_.Int(0, 3)], rng_.Uniform(0.5, 0.8), rng_.Uniform(0.22, 0.4));
    if (line_scheme_ <= 4) ink_ = HsvToRgb(rng_.Uniform(0, 360), rng_.Uniform(0.0, 0.4), rng_.Uniform(0.04, 0.16));
    style_.soft_lines = rng_.Chance(0.6);
    if (rng_.Chance(0.5)) style_.noise_sigma = rng_.Uniform(0.5, 2.0);
    if (rng_.Chance(0.35)) style_.blur_sigma = rng_.Uniform(0.35, 0.8);
    if (rng_.Chance(0.2)) style_.jpeg_quality = rng_.Int(75, 95);
    style_.frame_seed = rng_.Next();
  }

  void ApplyMood() {
    std::vector<int> bg(spec_.palette.size(), -1);  // -1 unused, 0 actor, 1 background
    for (const Region& r : spec_.regions) {
      int& b = bg[static_cast<size_t>(r.material)];
      if (b < 0) b = IsBackground(r.kind) ? 1 : 0;
    }
    const std::string& mood = style_.mood;
    if (mood == "normal") return;
    for (size_t i = 0; i < spec_.palette.size(); ++i) {
      double h = 0, s = 0, v = 0;
      RgbToHsv(spec_.palette[i], &h, &s, &v);
      const bool back = bg[i] == 1;
      if (mood == "saturated") {
        s = std::min(1.0, s * 1.35 + 0.05), v = std::min(1.0, v * 1.05);
      } else if (mood == "pastel") {
        s *= 0.45, v = 0.78 + 0.22 * v;
      } else if (mood == "dark") {  // night or a dim interior: the backdrop darker and bluer
        if (back) h = BlendHue(h, 230, 0.3), s *= 0.8, v *= 0.42;
        else v *= 0.78;
      } else if (mood == "warm") {  // late afternoon
        h = BlendHue(h, 30, back ? 0.3 : 0.12);
        if (back) v *= 0.92;
      }
      spec_.palette[i] = HsvToRgb(h, std::clamp(s, 0.0, 1.0), std::clamp(v, 0.0, 1.0));
    }
  }

  void LineStyles() {
    style_.lines.assign(spec_.groups.size(), LineStyle());
    for (size_t g = 0; g < spec_.groups.size(); ++g) {
      if (root_[g] != static_cast<int>(g)) {
        style_.lines[g] = style_.lines[static_cast<size_t>(root_[g])];  // parents come first
        continue;
      }
      // The object's look: its first region's kind and colour.
      RegionKind kind = K::kProp;
      cv::Vec3b colour{128, 128, 128};
      for (const Region& r : spec_.regions)
        if (root_[static_cast<size_t>(r.group)] == static_cast<int>(g)) {
          kind = r.kind;
          colour = spec_.palette[static_cast<size_t>(r.material)];
          break;
        }
      const bool back = IsBackground(kind);
      LineStyle& l = style_.lines[g];
      // Painted backgrounds mostly have no line art; characters mostly do.
      l.drawn = rng_.Chance(back ? 0.35 : 0.88);
      l.width = std::clamp(line_width_ * rng_.Uniform(0.75, 1.3) * (back ? 0.7 : 1.0) * k_, 1.0, 5.0);
      if (rng_.Chance(0.6)) l.width_var = rng_.Uniform(0.1, 0.5);
      l.var_scale = rng_.Uniform(15, 60) * k_;
      if (line_scheme_ >= 5 && line_scheme_ <= 7) {
        double h = 0, s = 0, v = 0;
        RgbToHsv(colour, &h, &s, &v);
        l.colour = HsvToRgb(h, rng_.Uniform(0.4, 0.8), rng_.Uniform(0.15, 0.35));
      } else {
        l.colour = ink_;
      }
    }
  }

  // --- surfaces --------------------------------------------------------------------

  void Gradient(Surface& s, cv::Point2d from, cv::Point2d to, cv::Vec3f tone_from, cv::Vec3f tone_to) {
    const cv::Point2d d = to - from;
    const double len2 = std::max(1e-9, d.dot(d));
    s.grad_origin = from;
    s.grad_dir = d / len2;
    s.grad_from = tone_from;
    s.grad_to = tone_to;
  }
  // Top-to-bottom over the region's extent (or a given span).
  void Vertical(Surface& s, double y0, double y1, double top, double bottom) {
    Gradient(s, {0, y0}, {0, y1}, Tone(top), Tone(bottom));
  }
  // A soft ramp across the part in a random direction (lit to unlit side).
  void PartGradient(Surface& s, double amp) {
    const double a = rng_.Uniform(0, 2 * CV_PI);
    const cv::Point2d d(std::cos(a), std::sin(a));
    Gradient(s, s.centre - d * s.radius, s.centre + d * s.radius, Tone(1 + amp), Tone(1 - amp));
  }
  // Texture detail stops at kFinest px (as painted at the reference pose): finer detail
  // would alias, and a flow network could not tell it from noise either.
  static constexpr double kFinest = 6.0;
  void Noise(Surface& s, double amp, double scale, int octaves) {
    s.noise_amp = static_cast<float>(amp);
    s.noise_scale = std::max(kFinest, scale * k_);
    s.noise_octaves = std::clamp(1 + static_cast<int>(std::floor(std::log2(s.noise_scale / kFinest))), 1, octaves);
  }
  void Blotches(Surface& s, double amp, double scale, cv::Vec3f tone) {
    s.blotch_amp = static_cast<float>(amp);
    s.blotch_scale = std::max(4 * kFinest, scale * k_);  // two octaves, the finer one at half this
    s.blotch_tone = tone;
  }
  void Pattern(Surface& s, Surface::Pattern p, double w, double h, double angle, double joint, double soft,
               double joint_tone, double var) {
    s.pattern = p;
    s.cell_w = std::max(2 * kFinest, w * k_);
    s.cell_h = std::max(2 * kFinest, h * k_);
    s.pattern_angle = angle;
    s.joint = joint * k_;
    s.joint_soft = std::max(1.5, soft * k_);
    s.joint_tone = static_cast<float>(joint_tone);
    s.cell_tone_var = static_cast<float>(var);
  }
  // Cel shading with `bands` bands cast along dir; the first band starts at a threshold
  // in [lo, hi) (0: through the part's centre, 1: at its edge).
  void Bands(Surface& s, int bands, cv::Point2d dir, double lo = -0.1, double hi = 0.35) {
    s.bands = bands;
    s.shadow_dir = dir * (1.0 / std::max(1e-9, std::hypot(dir.x, dir.y)));
    s.band_threshold[0] = rng_.Uniform(lo, hi);
    s.band_threshold[1] = s.band_threshold[0] + rng_.Uniform(0.3, 0.5);
    s.band_tone[0] = shade1_;
    s.band_tone[1] = shade2_;
    if (rng_.Chance(0.5)) {
      s.wobble_amp = rng_.Uniform(0.03, 0.12);
      s.wobble_scale = rng_.Uniform(0.3, 0.7) * s.radius;
    }
  }
  int BandCount(double p_any, double p_two) { return rng_.Chance(p_any) ? (rng_.Chance(p_two) ? 2 : 1) : 0; }
  // A highlight on the lit side of the part.
  void Highlight(Surface& s, double rx, double ry, double angle, double strength, double towards_light) {
    const cv::Point2d side(-s.shadow_dir.y, s.shadow_dir.x);
    s.highlight = true;
    s.highlight_centre = s.centre - s.shadow_dir * (towards_light * s.radius) + side * (rng_.Uniform(-0.2, 0.2) * s.radius);
    s.highlight_rx = rx * s.radius;
    s.highlight_ry = ry * s.radius;
    s.highlight_angle = angle;
    s.highlight_strength = static_cast<float>(strength);
  }

  Surface MakeSurface(size_t r) {
    const Region& reg = spec_.regions[r];
    const Extent& e = extent_[r];
    Surface s;
    s.seed = static_cast<uint32_t>(rng_.Next() >> 32);
    s.centre = e.Centre();
    s.radius = e.Radius();
    s.shadow_dir = shadow_dir_;
    using P = Surface::Pattern;
    const cv::Point2d side_dir(shadow_dir_.x >= 0 ? 1.0 : -1.0, 0.25);
    switch (reg.kind) {
      case K::kSky:
        if (rng_.Chance(0.9)) {
          if (style_.mood == "warm")
            Gradient(s, {0, -0.15 * h_}, {0, 0.65 * h_}, Tone(0.72, 0.75, 1.0), Tone(1.35, 1.08, 0.85));
          else
            Gradient(s, {0, -0.15 * h_}, {0, 0.65 * h_}, Tone(0.78, 0.85, 0.98) * static_cast<float>(rng_.Uniform(0.9, 1.0)),
                     Tone(1.25, 1.2, 1.1));
        }
        if (rng_.Chance(0.5)) Blotches(s, rng_.Uniform(0.3, 0.6), rng_.Uniform(150, 350), Tone(1.2, 1.2, 1.15));
        if (rng_.Chance(0.5)) Noise(s, 0.025, 300, 3);
        break;
      case K::kSun:
        Highlight(s, 0.55, 0.55, 0, 0.55, 0.0);
        break;
      case K::kCloud:
        Bands(s, 1, {0, 1});
        s.band_tone[0] = Tone(0.85, 0.88, 0.97);
        Vertical(s, e.y0, e.y1, 1.05, 0.92);
        break;
      case K::kMountain:
        Vertical(s, e.y0, e.y0 + std::min(e.y1 - e.y0, 0.5 * h_), 1.12, 0.88);
        Noise(s, rng_.Uniform(0.04, 0.09), rng_.Uniform(40, 120), 4);
        if (rng_.Chance(0.7)) Bands(s, 1, side_dir);
        break;
      case K::kGround: {
        Noise(s, rng_.Uniform(0.05, 0.14), rng_.Uniform(60, 220), 4);
        if (rng_.Chance(0.6))
          Blotches(s, rng_.Uniform(0.4, 0.8), rng_.Uniform(80, 250),
                   Tone(rng_.Uniform(0.8, 0.95), rng_.Uniform(0.85, 1.05), rng_.Uniform(0.75, 0.95)));
        const double p = rng_.Uniform();
        if (p < 0.2) {  // mown stripes
          const double c = rng_.Uniform(30, 80);
          Pattern(s, P::kStripes, c, c, rng_.Uniform(-0.3, 0.3), c * rng_.Uniform(0.15, 0.25), c * 0.2,
                  rng_.Uniform(0.88, 0.95), 0);
        } else if (p < 0.35) {  // paving
          const double c = rng_.Uniform(30, 70);
          Pattern(s, P::kTiles, c, c * rng_.Uniform(0.6, 1.0), 0, rng_.Uniform(1.0, 2.0), 1.0, rng_.Uniform(0.7, 0.85),
                  rng_.Uniform(0.03, 0.08));
        }
        Vertical(s, 0.5 * h_, 1.1 * h_, 1.1, 0.85);
        break;
      }
      case K::kWall: {
        const double p = rng_.Uniform();
        if (p < 0.4) {
          const double c = rng_.Uniform(22, 40);
          Pattern(s, P::kBricks, c, c * rng_.Uniform(0.35, 0.5), 0, rng_.Uniform(0.8, 1.6), 1.0, rng_.Uniform(0.65, 0.85),
                  rng_.Uniform(0.04, 0.12));
        } else if (p < 0.6) {
          const double c = rng_.Uniform(14, 36);
          Pattern(s, P::kTiles, c, c, 0, rng_.Uniform(0.6, 1.2), 1.0, rng_.Uniform(0.7, 0.85), rng_.Uniform(0.02, 0.06));
        } else if (p < 0.8) {  // planks
          const double c = rng_.Uniform(10, 22);
          Pattern(s, P::kStripes, c, c, CV_PI / 2, rng_.Uniform(0.6, 1.0), 1.0, 0.75, 0.08);
        }
        Noise(s, p < 0.8 ? 0.03 : rng_.Uniform(0.04, 0.09), p < 0.8 ? 15 : rng_.Uniform(20, 60), p < 0.8 ? 2 : 4);
        Vertical(s, e.y0, e.y1, 1.05, 0.85);
        break;
      }
      case K::kRoof:
        Pattern(s, P::kStripes, 10, rng_.Uniform(7, 14), 0, rng_.Uniform(0.7, 1.3), 1.0, 0.7, 0.05);
        Vertical(s, e.y0, e.y1, 1.1, 0.9);
        break;
      case K::kWindow:
        if (rng_.Chance(0.6))  // reflections
          Pattern(s, P::kStripes, 30, rng_.Uniform(25, 45), rng_.Uniform(0.6, 0.9), rng_.Uniform(3, 6), 2.0,
                  rng_.Uniform(1.15, 1.35), 0);
        Vertical(s, e.y0, e.y1, 1.1, 0.85);
        break;
      case K::kDoor:
      case K::kTrunk:
        Pattern(s, P::kStripes, 8, rng_.Uniform(5, 10), CV_PI / 2, rng_.Uniform(0.6, 1.2), 1.0, rng_.Uniform(0.75, 0.9), 0.06);
        Noise(s, 0.04, 20, 2);
        if (reg.kind == K::kTrunk) Bands(s, 1, {side_dir.x, 0});
        break;
      case K::kRoad:
        Noise(s, rng_.Uniform(0.05, 0.1), rng_.Uniform(6, 14), 3);
        if (rng_.Chance(0.5)) Blotches(s, 0.5, rng_.Uniform(60, 150), Tone(0.85, 0.85, 0.87));
        break;
      case K::kRoadMark:
        Noise(s, 0.04, 10, 2);
        break;
      case K::kGrass:
        if (rng_.Chance(0.7)) Bands(s, 1, side_dir);
        Vertical(s, e.y0, e.y1, 1.1, 0.85);
        break;
      case K::kStone:
        if (rng_.Chance(0.8)) Bands(s, 1, shadow_dir_);
        Noise(s, rng_.Uniform(0.05, 0.1), rng_.Uniform(6, 12), 3);
        if (rng_.Chance(0.3)) Highlight(s, 0.2, 0.12, 0, 0.3, 0.45);
        break;
      case K::kFoliage:
        Blotches(s, rng_.Uniform(0.5, 0.9), rng_.Uniform(12, 30),
                 Tone(rng_.Uniform(0.75, 0.9), rng_.Uniform(0.85, 1.0), rng_.Uniform(0.7, 0.9)));
        Bands(s, BandCount(0.8, 0.3), shadow_dir_);
        Noise(s, 0.05, 10, 2);
        break;
      case K::kSkin:
        Bands(s, BandCount(0.85, 0.25), shadow_dir_, 0.2, 0.5);  // faces: a narrow shadow
        if (rng_.Chance(0.4)) PartGradient(s, rng_.Uniform(0.04, 0.1));
        if (rng_.Chance(0.15)) Highlight(s, 0.15, 0.1, rng_.Uniform(-0.5, 0.5), 0.25, 0.45);
        break;
      case K::kHair:
        Bands(s, BandCount(0.9, 0.35), shadow_dir_);
        if (rng_.Chance(0.7)) {
          const double rx = rng_.Uniform(0.35, 0.6);
          Highlight(s, rx, rx * rng_.Uniform(0.12, 0.25), rng_.Uniform(-0.25, 0.25), rng_.Uniform(0.35, 0.65), 0.35);
        }
        break;
      case K::kCloth:
      case K::kShoe: {
        Bands(s, BandCount(0.8, 0.3), shadow_dir_);
        if (rng_.Chance(0.5)) PartGradient(s, rng_.Uniform(0.05, 0.15));
        const double p = rng_.Uniform();
        if (p < 0.15) {  // striped fabric
          const double c = rng_.Uniform(6, 16);
          Pattern(s, P::kStripes, c, c, (rng_.Chance(0.5) ? 0 : CV_PI / 2) + rng_.Uniform(-0.2, 0.2),
                  c * rng_.Uniform(0.15, 0.3), 1.0, rng_.Uniform(0.6, 0.85), 0);
        } else if (p < 0.23) {  // checks
          const double c = rng_.Uniform(8, 18);
          Pattern(s, P::kTiles, c, c, rng_.Uniform(-0.3, 0.3), c * 0.2, 1.0, rng_.Uniform(0.65, 0.85), 0.1);
        }
        if (rng_.Chance(0.1)) Highlight(s, 0.2, 0.1, rng_.Uniform(-0.5, 0.5), 0.3, 0.5);
        break;
      }
      case K::kEye:
        if (rng_.Chance(0.7)) Vertical(s, e.y0, e.y0 + 0.6 * (e.y1 - e.y0), 0.8, 1.0);
        break;
      case K::kPupil:
        if (rng_.Chance(0.6)) Vertical(s, e.y0, e.y1, 0.6, 1.2);
        if (rng_.Chance(0.9)) {
          const double r0 = rng_.Uniform(0.2, 0.32);
          s.shadow_dir = {0.6, 0.8};  // the catch light sits up and to the left
          Highlight(s, r0, r0, 0, rng_.Uniform(0.8, 0.95), 0.45);
          s.shadow_dir = shadow_dir_;
        }
        break;
      case K::kMouth:
        if (rng_.Chance(0.3)) Bands(s, 1, shadow_dir_);
        break;
      case K::kTrim:
        if (rng_.Chance(0.3)) PartGradient(s, 0.1);
        if (rng_.Chance(0.3)) Highlight(s, 0.25, 0.15, 0, 0.5, 0.4);
        break;
      case K::kProp:
        Bands(s, BandCount(0.8, 0.35), shadow_dir_);
        if (rng_.Chance(0.5)) PartGradient(s, rng_.Uniform(0.05, 0.15));
        if (rng_.Chance(0.15)) Noise(s, 0.05, 0.5 * s.radius / k_, 2);
        if (rng_.Chance(0.6)) {
          const double rx = rng_.Uniform(0.12, 0.25);
          Highlight(s, rx, rx * rng_.Uniform(0.5, 1.0), rng_.Uniform(0, CV_PI), rng_.Uniform(0.5, 0.85), 0.45);
        }
        break;
    }
    return s;
  }

  Rng rng_;
  SceneSpec& spec_;
  SceneStyle style_;
  double k_ = 1, h_ = 540;
  std::vector<int> root_;
  std::vector<Extent> extent_;
  cv::Point2d shadow_dir_{0, 1};
  cv::Vec3f shade1_, shade2_;
  double line_width_ = 2;
  int line_scheme_ = 0;
  cv::Vec3b ink_;
};

}  // namespace

double StyleMotionFactor(uint64_t style_seed) {
  Rng rng(style_seed ^ 0x6A09E667F3BCC909ull);
  return std::exp(rng.Uniform(std::log(0.3), std::log(2.0)));
}

SceneStyle RandomStyle(uint64_t style_seed, SceneSpec* spec) { return StyleBuilder(style_seed, spec).Build(); }

}  // namespace animerun::data::synth
