// The "varied" look of a synthetic scene (SynthOptions::style = "varied"): what each region
// is painted with, how each object's lines are drawn, the palette's mood and the per-frame
// camera degradations, all drawn from one seed. synth_paint.h paints frames with it.
//
// Every paint term is a function of the region's group coordinates (object space for
// characters and props, background space for the backdrop), so a point of a surface keeps
// its colour wherever the group's affine map takes it and the exact flow stays exact for
// every visible pixel. Only the per-frame degradations (noise, blur, JPEG) are not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/synth_scene.h"

namespace animerun::data::synth {

// How one region is painted: its palette colour times a product of multipliers, then a
// highlight blended towards white. Lengths are in the group's coordinate units (pixels
// at the scene's reference pose).
struct Surface {
  // Colour gradient: multiplier lerp(grad_from, grad_to, clamp(dot(u - grad_origin, grad_dir), 0, 1)).
  cv::Point2d grad_origin{0, 0};
  cv::Point2d grad_dir{0, 0};  // direction / length of the ramp; zero: no gradient
  cv::Vec3f grad_from{1, 1, 1}, grad_to{1, 1, 1};

  // Multi-scale value noise: brightness times 1 + noise_amp * fbm(u / noise_scale).
  float noise_amp = 0;
  double noise_scale = 1;  // wavelength of the coarsest octave
  int noise_octaves = 0;   // 0: no noise

  // Painted blotches: a second tone where a coarse noise is high (patches, leaves, wisps).
  float blotch_amp = 0;  // 0: none, 1: full blotch_tone
  double blotch_scale = 1;
  cv::Vec3f blotch_tone{1, 1, 1};

  // A periodic pattern of cells (bricks, tiles, planks or stripes) separated by soft joints.
  enum class Pattern : uint8_t { kNone, kStripes, kBricks, kTiles };
  Pattern pattern = Pattern::kNone;
  double cell_w = 1, cell_h = 1;  // cell size (stripes: cell_h only)
  double pattern_angle = 0;       // rotation of the pattern, rad
  double joint = 0;               // half width of a joint
  double joint_soft = 1;          // width of the joint's soft edge
  float joint_tone = 1;           // multiplier inside joints
  float cell_tone_var = 0;        // per-cell brightness variation (+-)

  // Cel shading: band k (1 or 2) where dot(u - centre, shadow_dir) / radius (+ wobble)
  // exceeds band_threshold[k-1]; the band multiplies the colour by band_tone[k-1].
  int bands = 0;  // 0..2
  cv::Point2d centre{0, 0};
  double radius = 1;
  cv::Point2d shadow_dir{0, 1};  // unit, away from the light
  double band_threshold[2] = {0.2, 0.6};
  cv::Vec3f band_tone[2] = {{0.8f, 0.8f, 0.8f}, {0.65f, 0.65f, 0.65f}};
  double wobble_amp = 0, wobble_scale = 1;  // hand-drawn wiggle of the band edges

  // A highlight (band 3): an ellipse blended towards white by highlight_strength.
  bool highlight = false;
  cv::Point2d highlight_centre{0, 0};
  double highlight_rx = 1, highlight_ry = 1, highlight_angle = 0;
  float highlight_strength = 0;

  uint32_t seed = 0;  // noise lattice of this surface
};

// How the lines of one object (a root group and its children) are drawn.
struct LineStyle {
  bool drawn = true;
  double width = 2;        // stroke thickness in pixels, about 1..5
  double width_var = 0;    // relative variation of the thickness along the stroke
  double var_scale = 40;   // wavelength of that variation (object space)
  cv::Vec3b colour{18, 16, 24};
};

struct SceneStyle {
  std::vector<Surface> surfaces;    // per region
  std::vector<int> region_object;   // per region: its object (root group index; higher = in front)
  std::vector<LineStyle> lines;     // per group (children share their root's style)
  bool soft_lines = false;          // anti-aliased strokes: a partial-coverage fringe beside each line
  double noise_sigma = 0;           // per-frame Gaussian noise, grey levels (0: none)
  double blur_sigma = 0;            // per-frame Gaussian blur, pixels (0: none)
  int jpeg_quality = 0;             // per-frame JPEG round trip at this quality (0: none)
  uint64_t frame_seed = 0;          // seeds the per-frame noise
  std::string mood;                 // palette mood: normal, saturated, pastel, dark, warm
};

// Multiplier of the scene's motion in the varied style: slow to fast shots (~0.3x to 2x),
// drawn from the style seed alone so the scene geometry can be built with it.
double StyleMotionFactor(uint64_t style_seed);

// The scene's look, from style_seed and what spec depicts (RegionKind, region extents).
// Applies the palette mood to spec->palette (recoloured passes are left as drawn).
SceneStyle RandomStyle(uint64_t style_seed, SceneSpec* spec);

}  // namespace animerun::data::synth
