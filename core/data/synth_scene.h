// Scene description for the synthetic generator: rigid motion groups with smooth
// per-frame affine maps, flat-coloured regions, and the shapes (polygons) that draw them
// in painter's order. RandomScene() builds a cartoon scene (parallax background with
// sky, mountains, buildings, trees; characters with animated limbs; fast props).
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace animerun::data::synth {

// x' = a*x + b*y + tx, y' = c*x + d*y + ty
struct Affine {
  double a = 1, b = 0, c = 0, d = 1, tx = 0, ty = 0;

  cv::Point2d Apply(const cv::Point2d& p) const { return {a * p.x + b * p.y + tx, c * p.x + d * p.y + ty}; }
  Affine operator*(const Affine& r) const;  // (this * r)(p) = this(r(p))
  Affine Inverse() const;
  static Affine Translate(double x, double y);
  static Affine RotateScale(double angle, double scale);  // about the origin
};

// Smooth motion over time. For a root group (parent < 0):
//   A(t) = T(pivot + pos(t)) * R(angle(t)) * S(scale(t)) * T(-pivot)
// and for a child group A(t) = A_parent(t) * (the same local map), e.g. a limb swinging
// about its shoulder. pos, angle and scale are low-order terms plus a sinusoid
// (acceleration and zoom saturate, see Local()).
struct Trajectory {
  int parent = -1;
  cv::Point2d pivot{0, 0};
  cv::Point2d p0{0, 0}, vel{0, 0}, acc{0, 0};       // px, px/frame, px/frame^2
  double period = 0;                                // > 0: pos uses period*sin(t/period), not t
  cv::Point2d wob_amp{0, 0};                        // px
  double wob_freq = 0, wob_phase = 0;               // rad/frame, rad
  double angle0 = 0, omega = 0;                     // rad, rad/frame
  double ang_amp = 0, ang_freq = 0, ang_phase = 0;  // rad, rad/frame, rad
  double scale0 = 1, scale_rate = 0;                // scale(t) ~ scale0 * exp(rate*t) * (1 + ...)
  double scale_amp = 0, scale_freq = 0, scale_phase = 0;

  Affine Local(double t) const;
};

// What a region depicts. The flat style ignores it; the varied style (synth_style.h)
// paints each kind its own way (skies get gradients, walls bricks, hair highlights, ...).
enum class RegionKind : uint8_t {
  // background
  kSky, kSun, kCloud, kMountain, kGround, kWall, kRoof, kWindow, kDoor, kRoad, kRoadMark, kGrass, kStone, kTrunk,
  kFoliage,
  // characters and props
  kSkin, kHair, kCloth, kShoe, kEye, kPupil, kMouth, kTrim, kProp,
};

// A flat region kind: one material of one rigid body. Lines are drawn between pixels of
// different regions, so a region's pixels form the segments.
struct Region {
  int group = 0;     // index into SceneSpec::groups
  int material = 0;  // index into SceneSpec::palette
  RegionKind kind = RegionKind::kProp;
};

// A filled polygon in its region's group coordinates.
struct Shape {
  int region = 0;
  std::vector<cv::Point2d> polygon;
};

struct SceneSpec {
  int width = 0, height = 0;
  std::vector<Trajectory> groups;                    // parents come before children
  std::vector<Region> regions;
  std::vector<Shape> shapes;                         // painter's order: first is bottom-most
  std::vector<cv::Vec3b> palette;                    // RGB per material (original pass)
  std::vector<std::vector<cv::Vec3b>> recolours;     // per colour pass, RGB per material
  cv::Vec3b line_color{0, 0, 0};

  // Every group's affine map at frame t.
  std::vector<Affine> GroupAffines(int t) const;
};

// RGB from hue (degrees), saturation and value in [0, 1].
cv::Vec3b HsvToRgb(double h, double s, double v);

// A random cartoon scene for frames 0..frames-1 at width x height. motion_scale
// multiplies every motion; color_passes recoloured palettes are made besides the original.
// The camera kind follows scene_index through a fixed mix (of every 10 scenes: 7 pans,
// 2 fast pans, 1 static), so that even a couple of scenes have AnimeRun-like motion.
SceneSpec RandomScene(uint64_t seed, int scene_index, int width, int height, int frames,
                      double motion_scale, int color_passes);

}  // namespace animerun::data::synth
