// RAFT's FlowAugmentor (princeton-vl/RAFT core/utils/augmentor.py, copied unchanged by
// AnimeRun), on uint8 RGB frames: photometric jitter, then the eraser, then the spatial
// transform, each with the original's probabilities, ranges and order of random draws.
//
//  * Colour: torchvision ColorJitter(brightness 0.4, contrast 0.4, saturation 0.4,
//    hue 0.5/3.14) with PIL semantics (ApplyColorJitter). With probability 0.2 each image
//    is jittered with its own factors (asymmetric); otherwise both are stacked vertically
//    and jittered once (same factors; the contrast mean is over both images).
//  * Eraser (p 0.5): image 2 only, 1-2 rectangles, corner anywhere, sides in [50, 100),
//    filled with image 2's mean colour (truncated to uint8).
//  * Spatial: s = 2^U(min_scale, max_scale); with p 0.8 a stretch of 2^U(-0.2, 0.2) on
//    each axis; both clipped to at least (crop + 8) / size; with p 0.8 images, flow and
//    mask are resized (bilinear; mask nearest) and the flow scaled by (sx, sy); flips
//    (horizontal p 0.5: u negated; vertical p 0.1: v negated) when do_flip; a random crop.
//
// Deviation: when the frame is no larger than the crop and the 20% "no resize" case comes
// up (the original then fails in randint), the frame is resized to the floor scale.
// The valid mask follows every spatial op and is then ANDed with the official dense rule
// |u| < 1000 and |v| < 1000 on the final flow.
#pragma once

#include <array>

#include <opencv2/core.hpp>

#include "core/data/flow_datasets.h"
#include "core/util/rng.h"

namespace animerun::data {

struct FlowAugmentOptions {
  int crop_height = 368;         // output size (the AnimeRun recipe: 368 x 768)
  int crop_width = 768;
  double min_scale = -0.2;       // log2 scale range of the spatial transform (finetune stages)
  double max_scale = 0.6;
  bool do_flip = true;           // random horizontal / vertical flips
  bool photometric = true;       // colour jitter and eraser (off: only the spatial transform)
  void Check() const;            // throws Error naming the field
};

// One ColorJitter draw: the four factors (brightness, contrast, saturation in
// [0.6, 1.4]; hue in [-0.5/3.14, 0.5/3.14]) and the order the ops run in (0 brightness,
// 1 contrast, 2 saturation, 3 hue), a uniformly random permutation.
struct ColorJitterDraw {
  double brightness = 1, contrast = 1, saturation = 1, hue = 0;
  std::array<int, 4> order{0, 1, 2, 3};
};
ColorJitterDraw DrawColorJitter(Rng& rng);

// Applies a draw to an RGB uint8 image in place, as torchvision's PIL path does:
// brightness = Image.blend(black, img, f); contrast = blend(grey(mean L), img, f) with
// mean = int(mean(L) + 0.5); saturation = blend(L as RGB, img, f); hue through PIL's
// 8-bit HSV with H += uint8(hue * 255) (wrapping). Blend: in1 + f (in2 - in1) in float,
// truncated to uint8 and clipped when f > 1. L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
void ApplyColorJitter(cv::Mat& rgb, const ColorJitterDraw& draw);
// The single ops, for tests.
void AdjustBrightness(cv::Mat& rgb, double factor);
void AdjustContrast(cv::Mat& rgb, double factor);
void AdjustSaturation(cv::Mat& rgb, double factor);
void AdjustHue(cv::Mat& rgb, double hue_factor);

// What one augmentation drew (tests check the distributions and the geometry).
struct FlowAugmentDraws {
  bool asymmetric = false;
  ColorJitterDraw jitter1, jitter2;    // jitter2 only when asymmetric
  int erased = 0;                      // rectangles erased (0 when the eraser did not fire)
  double scale = 1, scale_x = 1, scale_y = 1;  // after stretch and clipping
  bool stretched = false, resized = false, hflip = false, vflip = false;
  int crop_y = 0, crop_x = 0;          // top-left of the crop in the (resized, flipped) frame
};

// Augments a sample (images, flow and valid mask) into a crop_height x crop_width sample.
// All randomness comes from rng, in the original's order. draws (optional) records it.
FlowSample AugmentFlowSample(const FlowSample& sample, const FlowAugmentOptions& options, Rng& rng,
                             FlowAugmentDraws* draws = nullptr);

}  // namespace animerun::data
