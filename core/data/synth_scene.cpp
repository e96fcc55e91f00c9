#include "core/data/synth_scene.h"

#include <algorithm>
#include <cmath>

#include "core/data/synth_rng.h"

namespace animerun::data::synth {

namespace {
using Poly = std::vector<cv::Point2d>;
using K = RegionKind;
}  // namespace

// ---------------------------------------------------------------------------------------
// Affine and Trajectory

Affine Affine::operator*(const Affine& r) const {
  Affine o;
  o.a = a * r.a + b * r.c;
  o.b = a * r.b + b * r.d;
  o.c = c * r.a + d * r.c;
  o.d = c * r.b + d * r.d;
  o.tx = a * r.tx + b * r.ty + tx;
  o.ty = c * r.tx + d * r.ty + ty;
  return o;
}

Affine Affine::Inverse() const {
  const double det = a * d - b * c;
  Affine o;
  o.a = d / det;
  o.b = -b / det;
  o.c = -c / det;
  o.d = a / det;
  o.tx = -(o.a * tx + o.b * ty);
  o.ty = -(o.c * tx + o.d * ty);
  return o;
}

Affine Affine::Translate(double x, double y) {
  Affine o;
  o.tx = x;
  o.ty = y;
  return o;
}

Affine Affine::RotateScale(double angle, double scale) {
  Affine o;
  const double cs = std::cos(angle) * scale, sn = std::sin(angle) * scale;
  o.a = cs;
  o.b = -sn;
  o.c = sn;
  o.d = cs;
  return o;
}

Affine Trajectory::Local(double t) const {
  // Acceleration acts early on, then oscillates gently; with a period the motion turns
  // back smoothly (pans and walks go back and forth); zooming saturates at about 0.5x/2x.
  // Long sequences thus stay in bounds while short ones move almost uniformly.
  constexpr double kAccPeriod = 15.0, kZoomLimit = 0.7;
  const double acc_term = kAccPeriod * kAccPeriod * (1.0 - std::cos(t / kAccPeriod));  // ~t^2/2 early on
  const double wob = std::sin(wob_freq * t + wob_phase);
  const double travel = period > 0 ? period * std::sin(t / period) : t;  // ~t for t << period
  const cv::Point2d pos = p0 + vel * travel + acc * acc_term + wob_amp * wob;
  const double angle = angle0 + omega * t + ang_amp * std::sin(ang_freq * t + ang_phase);
  const double zoom = kZoomLimit * std::tanh(scale_rate * t / kZoomLimit);
  const double scale = scale0 * std::exp(zoom) * (1.0 + scale_amp * std::sin(scale_freq * t + scale_phase));
  return Affine::Translate(pivot.x + pos.x, pivot.y + pos.y) * Affine::RotateScale(angle, scale) *
         Affine::Translate(-pivot.x, -pivot.y);
}

std::vector<Affine> SceneSpec::GroupAffines(int t) const {
  std::vector<Affine> out(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const Affine local = groups[g].Local(static_cast<double>(t));
    out[g] = groups[g].parent >= 0 ? out[static_cast<size_t>(groups[g].parent)] * local : local;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Random scene

cv::Vec3b HsvToRgb(double h, double s, double v) {
  h = std::fmod(h, 360.0);
  if (h < 0) h += 360.0;
  const double c = v * s;
  const double hp = h / 60.0;
  const double x = c * (1.0 - std::fabs(std::fmod(hp, 2.0) - 1.0));
  double r = 0, g = 0, b = 0;
  if (hp < 1) r = c, g = x;
  else if (hp < 2) r = x, g = c;
  else if (hp < 3) g = c, b = x;
  else if (hp < 4) g = x, b = c;
  else if (hp < 5) r = x, b = c;
  else r = c, b = x;
  const double m = v - c;
  auto q = [m](double u) { return static_cast<uchar>(std::lround(std::clamp(u + m, 0.0, 1.0) * 255.0)); };
  return {q(r), q(g), q(b)};
}

namespace {

Poly EllipsePoly(double cx, double cy, double rx, double ry, double rot = 0.0) {
  const double perim = 2 * CV_PI * std::sqrt(0.5 * (rx * rx + ry * ry));
  const int n = std::clamp(static_cast<int>(perim / 5.0), 12, 72);
  Poly p;
  p.reserve(n);
  const double cr = std::cos(rot), sr = std::sin(rot);
  for (int i = 0; i < n; ++i) {
    const double a = 2 * CV_PI * i / n;
    const double x = rx * std::cos(a), y = ry * std::sin(a);
    p.push_back({cx + cr * x - sr * y, cy + sr * x + cr * y});
  }
  return p;
}

Poly RectPoly(double x0, double y0, double x1, double y1) { return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}; }

// A limb: a rectangle of width w hanging from (x, y) downwards by len, rounded at the end.
Poly LimbPoly(double x, double y, double w, double len) {
  Poly p{{x - w / 2, y}, {x + w / 2, y}};
  const int n = 10;
  for (int i = 0; i <= n; ++i) {
    const double a = CV_PI * i / n;
    p.push_back({x + (w / 2) * std::cos(a), y + len + (w / 2) * std::sin(a)});
  }
  return p;
}

Poly StarPoly(double cx, double cy, double r_out, double r_in, int points, double rot) {
  Poly p;
  for (int i = 0; i < 2 * points; ++i) {
    const double a = rot + CV_PI * i / points;
    const double r = (i % 2 == 0) ? r_out : r_in;
    p.push_back({cx + r * std::cos(a), cy + r * std::sin(a)});
  }
  return p;
}

class Builder {
 public:
  Builder(uint64_t seed, int scene_index, int w, int h, int frames, double motion_scale)
      : rng_(seed), scene_index_(scene_index < 0 ? 0 : scene_index), w_(w), h_(h), frames_(frames) {
    spec_.width = w;
    spec_.height = h;
    // Geometry and motion are designed at 960x540 and scale with the frame.
    k_ = std::sqrt(static_cast<double>(w) * h / (960.0 * 540.0));
    m_ = motion_scale * k_;
    spec_.line_color = {18, 16, 24};
  }

  SceneSpec Build(int color_passes) {
    MakeCamera();
    MakeFarBackground();
    MakeNearBackground();
    MakeActors();
    MakeRecolours(color_passes);
    return std::move(spec_);
  }

 private:
  int Material(double h, double s, double v) {
    spec_.palette.push_back(HsvToRgb(h, std::clamp(s, 0.0, 1.0), std::clamp(v, 0.35, 1.0)));
    return static_cast<int>(spec_.palette.size()) - 1;
  }
  int RandMaterial(double h_lo, double h_hi, double s_lo, double s_hi, double v_lo, double v_hi) {
    return Material(rng_.Uniform(h_lo, h_hi), rng_.Uniform(s_lo, s_hi), rng_.Uniform(v_lo, v_hi));
  }
  int Group(const Trajectory& tr) {
    spec_.groups.push_back(tr);
    return static_cast<int>(spec_.groups.size()) - 1;
  }
  int NewRegion(int group, int material, RegionKind kind) {
    spec_.regions.push_back({group, material, kind});
    return static_cast<int>(spec_.regions.size()) - 1;
  }
  void Add(int region, Poly poly) { spec_.shapes.push_back({region, std::move(poly)}); }
  int AddNew(int group, int material, RegionKind kind, Poly poly) {
    const int r = NewRegion(group, material, kind);
    Add(r, std::move(poly));
    return r;
  }

  // The part of group g's plane seen over all frames (bounding box of the inverse-mapped
  // frame corners), so that background layers always cover the frame.
  cv::Rect2d VisibleExtent(int g) const {
    double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
    for (int t = 0; t < frames_; ++t) {
      const Affine inv = spec_.groups[static_cast<size_t>(g)].Local(t).Inverse();
      for (const cv::Point2d c : {cv::Point2d(0, 0), cv::Point2d(w_, 0), cv::Point2d(0, h_), cv::Point2d(w_, h_)}) {
        const cv::Point2d p = inv.Apply(c);
        x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
      }
    }
    return {x0, y0, x1 - x0, y1 - y0};
  }

  void MakeCamera() {
    Trajectory near;
    near.pivot = {w_ / 2.0, h_ / 2.0};
    // Most AnimeRun shots move the camera; some pan fast, few stand still.
    static const char kKinds[] = "ppFpSppFpp";
    const char kind = kKinds[scene_index_ % 10];
    if (kind != 'S') {
      const double speed = (kind == 'p' ? rng_.Uniform(8.0, 28.0) : rng_.Uniform(32.0, 52.0)) * m_;
      const double dir = (rng_.Chance(0.5) ? 0.0 : CV_PI) + rng_.Uniform(-0.35, 0.35);
      near.vel = {speed * std::cos(dir), speed * std::sin(dir)};
      near.acc = {rng_.Uniform(-0.6, 0.6) * m_, rng_.Uniform(-0.3, 0.3) * m_};
      near.period = rng_.Uniform(35, 60);
      if (rng_.Chance(0.3)) {  // hand-held shake
        near.wob_amp = {rng_.Uniform(0, 3) * m_, rng_.Uniform(0, 3) * m_};
        near.wob_freq = rng_.Uniform(0.8, 2.0);
        near.wob_phase = rng_.Uniform(0, 2 * CV_PI);
      }
    }
    if (rng_.Chance(0.35)) near.scale_rate = rng_.Uniform(-0.012, 0.012) * std::min(1.0, m_ / k_);
    Trajectory far = near;
    const double parallax = rng_.Uniform(0.25, 0.5);
    far.vel *= parallax;
    far.acc *= parallax;
    far.wob_amp *= parallax;
    far.scale_rate *= parallax;
    far_ = Group(far);
    near_ = Group(near);
  }

  void MakeFarBackground() {
    const cv::Rect2d ext = VisibleExtent(far_);
    const double mx = w_ * 0.5, my = h_ * 0.5;
    const double sky_h = rng_.Chance(0.7) ? rng_.Uniform(190, 230) : rng_.Uniform(0, 50);
    Add(NewRegion(far_, Material(sky_h, rng_.Uniform(0.2, 0.55), rng_.Uniform(0.85, 1.0)), K::kSky),
        RectPoly(ext.x - mx, ext.y - my, ext.x + ext.width + mx, ext.y + ext.height + my));
    horizon_far_ = h_ * rng_.Uniform(0.38, 0.55);
    if (rng_.Chance(0.6)) {
      const double r = rng_.Uniform(25, 45) * k_;
      AddNew(far_, Material(rng_.Uniform(40, 60), 0.7, 1.0), K::kSun,
             EllipsePoly(rng_.Uniform(ext.x, ext.x + ext.width), rng_.Uniform(0.08, 0.25) * h_, r, r));
    }
    const int cloud_mat = Material(rng_.Uniform(190, 230), rng_.Uniform(0.0, 0.08), 1.0);
    const int n_clouds = rng_.Int(3, 6);
    for (int i = 0; i < n_clouds; ++i) {
      const int reg = NewRegion(far_, cloud_mat, K::kCloud);
      const double cx = rng_.Uniform(ext.x, ext.x + ext.width), cy = rng_.Uniform(0.05, 0.3) * h_;
      const double s = rng_.Uniform(20, 40) * k_;
      const int puffs = rng_.Int(2, 4);
      for (int j = 0; j < puffs; ++j)  // overlapping puffs of one region: no inner lines
        Add(reg, EllipsePoly(cx + (j - puffs / 2.0) * s * 1.1, cy + rng_.Uniform(-0.3, 0.3) * s,
                             s * rng_.Uniform(0.9, 1.4), s * rng_.Uniform(0.6, 0.9)));
    }
    const int mtn_a = RandMaterial(90, 160, 0.25, 0.5, 0.45, 0.7);
    const int mtn_b = RandMaterial(200, 260, 0.2, 0.4, 0.5, 0.75);
    for (double x = ext.x - rng_.Uniform(0, 150) * k_; x < ext.x + ext.width;) {
      const double half = rng_.Uniform(120, 260) * k_, peak = rng_.Uniform(60, 170) * k_;
      AddNew(far_, rng_.Chance(0.5) ? mtn_a : mtn_b, K::kMountain,
             {{x - half, horizon_far_ + h_}, {x - half, horizon_far_ + 5 * k_},
              {x + rng_.Uniform(-0.3, 0.3) * half, horizon_far_ - peak}, {x + half, horizon_far_ + 5 * k_},
              {x + half, horizon_far_ + h_}});
      x += half * rng_.Uniform(0.8, 1.5);
    }
  }

  void MakeNearBackground() {
    const cv::Rect2d ext = VisibleExtent(near_);
    const double x0 = ext.x - 40 * k_, x1 = ext.x + ext.width + 40 * k_;
    const double y1 = ext.y + ext.height + 40 * k_;
    horizon_ = h_ * rng_.Uniform(0.5, 0.66);
    const int ground = RandMaterial(70, 130, 0.3, 0.6, 0.5, 0.75);
    AddNew(near_, ground, K::kGround, RectPoly(x0, horizon_, x1, y1));

    // Buildings on the horizon, sometimes a second, taller row behind.
    for (int row = rng_.Chance(0.4) ? 1 : 0; row >= 0; --row) {
      const int wall_a = RandMaterial(0, 360, 0.1, 0.4, 0.55, 0.9);
      const int wall_b = RandMaterial(0, 360, 0.1, 0.4, 0.55, 0.9);
      const int roof = RandMaterial(0, 40, 0.4, 0.7, 0.45, 0.7);
      const int win = RandMaterial(190, 220, 0.3, 0.6, 0.65, 0.95);
      const int win_lit = RandMaterial(45, 60, 0.5, 0.8, 0.9, 1.0);
      const int door = RandMaterial(20, 35, 0.5, 0.7, 0.35, 0.55);
      for (double x = x0 - rng_.Uniform(0, 100) * k_; x < x1;) {
        const double bw = rng_.Uniform(80, 180) * k_;
        const double bh = std::min(rng_.Uniform(90, 260) * k_ * (row ? 1.3 : 1.0), horizon_ - 10 * k_);
        const double base = horizon_ + (row ? -2 : rng_.Uniform(2, 12)) * k_;
        AddNew(near_, rng_.Chance(0.5) ? wall_a : wall_b, K::kWall, RectPoly(x, base - bh, x + bw, base));
        if (rng_.Chance(0.5))
          AddNew(near_, roof, K::kRoof, {{x - 8 * k_, base - bh}, {x + bw / 2, base - bh - rng_.Uniform(25, 60) * k_},
                               {x + bw + 8 * k_, base - bh}});
        const double ws = rng_.Uniform(13, 22) * k_, gap = rng_.Uniform(9, 16) * k_;
        const int cols = std::max(1, static_cast<int>((bw - gap) / (ws + gap)));
        const int rows = std::max(1, static_cast<int>((bh - 45 * k_) / (ws * 1.3 + gap)));
        const double ox = x + (bw - cols * (ws + gap) + gap) / 2;
        const int win_reg = NewRegion(near_, win, K::kWindow), lit_reg = NewRegion(near_, win_lit, K::kWindow);
        for (int r = 0; r < rows; ++r)
          for (int c = 0; c < cols; ++c) {
            const double wx = ox + c * (ws + gap), wy = base - bh + gap + r * (ws * 1.3 + gap);
            Add(rng_.Chance(0.25) ? lit_reg : win_reg, RectPoly(wx, wy, wx + ws, wy + ws * 1.3));
          }
        if (!row && rng_.Chance(0.5)) {
          const double dw = rng_.Uniform(18, 28) * k_;
          AddNew(near_, door, K::kDoor, RectPoly(x + bw / 2 - dw / 2, base - dw * 1.8, x + bw / 2 + dw / 2, base));
        }
        x += bw + rng_.Uniform(0, 70) * k_;
      }
    }
    // Road with dashes.
    if (rng_.Chance(0.6)) {
      const double ry0 = horizon_ + (h_ - horizon_) * rng_.Uniform(0.35, 0.55);
      const double ry1 = ry0 + rng_.Uniform(45, 80) * k_;
      AddNew(near_, RandMaterial(0, 360, 0.0, 0.1, 0.4, 0.6), K::kRoad, RectPoly(x0, ry0, x1, ry1));
      const int dash = NewRegion(near_, Material(50, 0.1, 0.95), K::kRoadMark);
      const double my = (ry0 + ry1) / 2, dl = rng_.Uniform(30, 50) * k_;
      for (double x = x0; x < x1; x += dl * 2.2) Add(dash, RectPoly(x, my - 3 * k_, x + dl, my + 3 * k_));
    }
    // Ground details: grass tufts, stones, bushes.
    const double area_scale = (x1 - x0) / std::max(1.0, static_cast<double>(w_));
    const int grass = RandMaterial(80, 140, 0.5, 0.8, 0.4, 0.65);
    const int stone = RandMaterial(20, 50, 0.05, 0.2, 0.55, 0.8);
    const int n_details = static_cast<int>(rng_.Int(18, 34) * area_scale);
    for (int i = 0; i < n_details; ++i) {
      const double cx = rng_.Uniform(x0, x1), cy = rng_.Uniform(horizon_ + 8 * k_, y1);
      const double s = rng_.Uniform(6, 18) * k_;
      if (rng_.Chance(0.6))
        AddNew(near_, grass, K::kGrass, {{cx - s, cy}, {cx - s * 0.4, cy - s * 1.6}, {cx, cy - s * 0.5}, {cx + s * 0.5, cy - s * 1.8}, {cx + s, cy}});
      else
        AddNew(near_, stone, K::kStone, EllipsePoly(cx, cy, s, s * 0.6, rng_.Uniform(-0.3, 0.3)));
    }
    // Trees in front of the buildings.
    const int trunk = RandMaterial(20, 35, 0.5, 0.7, 0.35, 0.5);
    const int leaf_a = RandMaterial(90, 140, 0.5, 0.8, 0.4, 0.7);
    const int leaf_b = RandMaterial(60, 100, 0.5, 0.8, 0.45, 0.75);
    const int n_trees = static_cast<int>(rng_.Int(2, 6) * area_scale);
    for (int i = 0; i < n_trees; ++i) {
      const double cx = rng_.Uniform(x0, x1), base = horizon_ + rng_.Uniform(5, 60) * k_;
      const double th = rng_.Uniform(60, 140) * k_, tw = rng_.Uniform(10, 18) * k_;
      AddNew(near_, trunk, K::kTrunk, RectPoly(cx - tw / 2, base - th, cx + tw / 2, base));
      const int crown_mat = rng_.Chance(0.5) ? leaf_a : leaf_b;
      const int crown = NewRegion(near_, crown_mat, K::kFoliage);
      const double cr = rng_.Uniform(30, 55) * k_;
      Add(crown, EllipsePoly(cx, base - th, cr, cr * 0.85));
      Add(crown, EllipsePoly(cx - cr * 0.6, base - th + cr * 0.3, cr * 0.6, cr * 0.5));
      if (rng_.Chance(0.6)) AddNew(near_, crown_mat == leaf_a ? leaf_b : leaf_a, K::kFoliage, EllipsePoly(cx + cr * 0.3, base - th - cr * 0.2, cr * 0.3, cr * 0.25));
    }
  }

  // Where an actor starts and how it moves: inside the frame, entering from a side or
  // leaving through one.
  void PlaceActor(Trajectory& tr, double size, double speed_lo, double speed_hi) {
    const double speed = rng_.Uniform(speed_lo, speed_hi) * m_;
    double dir = rng_.Uniform(-0.5, 0.5) + (rng_.Chance(0.5) ? 0.0 : CV_PI);
    const double mode = rng_.Uniform();
    double x = rng_.Uniform(0.1, 0.9) * w_;
    const double y = rng_.Uniform(std::min(horizon_ + size * 0.2, h_ * 0.9), h_ * 0.9);
    const double travel = speed * std::max(1, frames_ - 1);
    if (mode < 0.25) {  // enter: start outside, moving in
      const bool left = std::cos(dir) > 0;
      x = left ? -size * 0.5 - rng_.Uniform(0.0, 0.3) * travel : w_ + size * 0.5 + rng_.Uniform(0.0, 0.3) * travel;
    } else if (mode < 0.45) {  // leave: start near the edge it moves towards
      const bool right = std::cos(dir) > 0;
      x = right ? w_ - rng_.Uniform(0.3, 0.8) * travel : rng_.Uniform(0.3, 0.8) * travel;
    }
    tr.p0 = {x, y};
    tr.vel = {speed * std::cos(dir), speed * std::sin(dir) * 0.5};
    tr.acc = {rng_.Uniform(-1, 1) * m_, rng_.Uniform(-0.6, 0.6) * m_};
    tr.period = rng_.Uniform(25, 45);
  }

  void MakeCharacter() {
    const double h = rng_.Uniform(110, 250) * k_;
    Trajectory tr;
    PlaceActor(tr, h, 6, 34);
    tr.p0.y -= h * 0.3;
    tr.wob_amp = {0, rng_.Uniform(1, 6) * m_};
    tr.wob_freq = rng_.Uniform(0.6, 1.4);
    tr.wob_phase = rng_.Uniform(0, 2 * CV_PI);
    tr.angle0 = rng_.Uniform(-0.2, 0.2);
    tr.omega = rng_.Uniform(-0.03, 0.03) * std::min(2.0, m_ / k_);
    tr.ang_amp = rng_.Uniform(0, 0.08);
    tr.ang_freq = rng_.Uniform(0.3, 0.9);
    tr.ang_phase = rng_.Uniform(0, 2 * CV_PI);
    tr.scale_rate = rng_.Uniform(-0.015, 0.015) * std::min(2.0, m_ / k_);
    const int body_g = Group(tr);

    const int skin = RandMaterial(20, 35, 0.25, 0.5, 0.85, 1.0);
    const int hair = RandMaterial(0, 360, 0.4, 0.9, 0.35, 0.9);
    const int shirt = RandMaterial(0, 360, 0.4, 0.9, 0.5, 0.95);
    const int pants = RandMaterial(200, 250, 0.3, 0.7, 0.35, 0.6);
    const int shoe = RandMaterial(0, 40, 0.3, 0.7, 0.35, 0.5);
    const int eye = Material(0, 0.0, 1.0);
    const int pupil = RandMaterial(200, 260, 0.5, 0.9, 0.35, 0.45);
    const int mouth = RandMaterial(350, 365, 0.6, 0.8, 0.7, 0.9);
    const int button = RandMaterial(40, 60, 0.6, 0.9, 0.8, 1.0);

    auto limb = [&](double px, double py, double w, double len, int mat, int end_mat, RegionKind end_kind, double phase) {
      Trajectory lt;
      lt.parent = body_g;
      lt.pivot = {px, py};
      lt.angle0 = rng_.Uniform(-0.2, 0.2);
      lt.ang_amp = rng_.Uniform(0.2, 0.6);
      lt.ang_freq = rng_.Uniform(0.3, 0.8);
      lt.ang_phase = phase;
      const int g = Group(lt);
      AddNew(g, mat, K::kCloth, LimbPoly(px, py, w, len));
      AddNew(g, end_mat, end_kind, EllipsePoly(px, py + len + w * 0.3, w * 0.75, w * 0.6));
    };
    const double phase = rng_.Uniform(0, 2 * CV_PI);
    limb(-0.19 * h, -0.2 * h, 0.07 * h, 0.28 * h, shirt, skin, K::kSkin, phase + CV_PI);  // back arm
    limb(-0.08 * h, 0.22 * h, 0.09 * h, 0.26 * h, pants, shoe, K::kShoe, phase);
    limb(0.08 * h, 0.22 * h, 0.09 * h, 0.26 * h, pants, shoe, K::kShoe, phase + CV_PI);
    AddNew(body_g, shirt, K::kCloth, EllipsePoly(0, 0, 0.2 * h, 0.29 * h));
    if (rng_.Chance(0.5)) AddNew(body_g, button, K::kTrim, EllipsePoly(0, 0.05 * h, 0.09 * h, 0.12 * h));  // chest patch
    const int n_buttons = rng_.Int(0, 3);
    for (int i = 0; i < n_buttons; ++i) AddNew(body_g, button, K::kTrim, EllipsePoly(0, -0.12 * h + i * 0.08 * h, 0.02 * h, 0.02 * h));
    limb(0.19 * h, -0.2 * h, 0.07 * h, 0.28 * h, shirt, skin, K::kSkin, phase);  // front arm
    const double hy = -0.45 * h, hr = 0.17 * h;
    if (rng_.Chance(0.5)) AddNew(body_g, hair, K::kHair, EllipsePoly(0, hy + 0.02 * h, hr * 1.15, hr * 1.1));  // long hair behind
    AddNew(body_g, skin, K::kSkin, EllipsePoly(0, hy, hr, hr * 1.05));
    AddNew(body_g, hair, K::kHair, {{-hr * 1.05, hy - 0.1 * hr}, {-hr * 0.7, hy - 0.8 * hr}, {0, hy - 1.15 * hr},
                          {hr * 0.7, hy - 0.8 * hr}, {hr * 1.05, hy - 0.1 * hr}, {hr * 0.4, hy - 0.45 * hr},
                          {-hr * 0.2, hy - 0.5 * hr}});
    for (double sx : {-1.0, 1.0}) {
      AddNew(body_g, eye, K::kEye, EllipsePoly(sx * 0.38 * hr, hy + 0.05 * hr, 0.2 * hr, 0.27 * hr));
      AddNew(body_g, pupil, K::kPupil, EllipsePoly(sx * 0.38 * hr + 0.05 * hr, hy + 0.1 * hr, 0.1 * hr, 0.13 * hr));
    }
    AddNew(body_g, mouth, K::kMouth, EllipsePoly(0, hy + 0.55 * hr, 0.22 * hr, 0.1 * hr));
    if (rng_.Chance(0.35)) {
      const int hat = RandMaterial(0, 360, 0.4, 0.9, 0.4, 0.8);
      AddNew(body_g, hat, K::kCloth, RectPoly(-hr * 1.3, hy - 0.85 * hr, hr * 1.3, hy - 0.7 * hr));
      AddNew(body_g, NewMaterialLike(hat), K::kCloth, RectPoly(-hr * 0.75, hy - 1.5 * hr, hr * 0.75, hy - 0.85 * hr));
    }
  }

  int NewMaterialLike(int mat) {
    const cv::Vec3b c = spec_.palette[static_cast<size_t>(mat)];
    spec_.palette.push_back(cv::Vec3b(static_cast<uchar>(c[0] * 0.8 + 40), static_cast<uchar>(c[1] * 0.8 + 40),
                                      static_cast<uchar>(c[2] * 0.8 + 40)));
    return static_cast<int>(spec_.palette.size()) - 1;
  }

  void MakeProp() {
    const double s = rng_.Uniform(18, 50) * k_;
    Trajectory tr;
    PlaceActor(tr, s * 2, 25, 75);
    tr.p0.y = rng_.Uniform(0.15, 0.9) * h_;
    tr.vel.y = rng_.Uniform(-0.4, 0.4) * std::fabs(tr.vel.x);
    tr.omega = rng_.Uniform(-0.15, 0.15) * std::min(2.0, m_ / k_);
    tr.angle0 = rng_.Uniform(0, 2 * CV_PI);
    tr.scale_amp = rng_.Uniform(0, 0.08);
    tr.scale_freq = rng_.Uniform(0.3, 1.0);
    const int g = Group(tr);
    const int a = RandMaterial(0, 360, 0.5, 0.95, 0.6, 1.0), b = RandMaterial(0, 360, 0.3, 0.9, 0.6, 1.0);
    switch (rng_.Int(0, 3)) {
      case 0:  // ball with a band
        AddNew(g, a, K::kProp, EllipsePoly(0, 0, s, s));
        AddNew(g, b, K::kProp, EllipsePoly(0, 0, s, s * 0.3));
        break;
      case 1:  // box with a label
        AddNew(g, a, K::kProp, RectPoly(-s, -s * 0.8, s, s * 0.8));
        AddNew(g, b, K::kProp, RectPoly(-s * 0.5, -s * 0.3, s * 0.5, s * 0.3));
        break;
      case 2:  // star
        AddNew(g, a, K::kProp, StarPoly(0, 0, s * 1.2, s * 0.5, 5, 0));
        AddNew(g, b, K::kProp, EllipsePoly(0, 0, s * 0.3, s * 0.3));
        break;
      default: {  // bird: body + flapping wing
        AddNew(g, a, K::kProp, EllipsePoly(0, 0, s * 1.1, s * 0.5));
        AddNew(g, b, K::kProp, EllipsePoly(s * 0.9, -s * 0.25, s * 0.35, s * 0.3));
        Trajectory wing;
        wing.parent = g;
        wing.ang_amp = rng_.Uniform(0.4, 0.9);
        wing.ang_freq = rng_.Uniform(1.0, 2.0);
        wing.ang_phase = rng_.Uniform(0, 2 * CV_PI);
        const int wg = Group(wing);
        AddNew(wg, b, K::kProp, {{-s * 0.4, 0}, {s * 0.4, 0}, {-s * 0.2, -s * 1.3}});
      }
    }
  }

  void MakeActors() {
    // Actors in a random depth order: characters and props interleave.
    const int n_chars = rng_.Int(3, 5), n_props = rng_.Int(3, 7);
    std::vector<int> order;
    for (int i = 0; i < n_chars; ++i) order.push_back(0);
    for (int i = 0; i < n_props; ++i) order.push_back(1);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng_.Int(0, static_cast<int>(i) - 1))]);
    for (int kind : order) kind == 0 ? MakeCharacter() : MakeProp();
  }

  void MakeRecolours(int passes) {
    for (int p = 0; p < passes; ++p) {
      std::vector<cv::Vec3b> pal;
      for (size_t i = 0; i < spec_.palette.size(); ++i)
        pal.push_back(HsvToRgb(rng_.Uniform(0, 360), rng_.Uniform(0.3, 0.9), rng_.Uniform(0.45, 1.0)));
      spec_.recolours.push_back(std::move(pal));
    }
  }

  Rng rng_;
  int scene_index_;
  int w_, h_, frames_;
  double k_ = 1, m_ = 1;
  double horizon_ = 0, horizon_far_ = 0;
  int far_ = 0, near_ = 0;
  SceneSpec spec_;
};

}  // namespace

SceneSpec RandomScene(uint64_t seed, int scene_index, int width, int height, int frames, double motion_scale,
                      int color_passes) {
  return Builder(seed, scene_index, width, height, frames, motion_scale).Build(color_passes);
}

}  // namespace animerun::data::synth
