// The synthetic AnimeRun generator: procedural cartoon sequences written in exactly the
// AnimeRun v2 layout (see animerun_dataset.h) with every annotation the real dataset has:
// original + recoloured passes, contour line art, forward/backward flow (.flo), Segment
// label maps, forward/backward SegMatching JSON, UnmatchedForward and LineArea masks.
// Annotations are exact by construction: each frame is rendered from a per-pixel layer map
// (top-most object part per pixel) and every object moves by a known per-frame affine map.
//
// Defaults (2 scenes x 6 frames at 960x540) are quick (a few seconds) and resemble the
// AnimeRun statistics: mean flow magnitude ~20 px with a tail beyond 50 px, and a few
// hundred segments per frame.
//
// Styles (SynthOptions::style):
//  - "flat": flat-coloured regions with dark 1..8 px contours (line_width) on a flat
//    backdrop. Segment maps are exactly what segments::LabelSegments gives on the frame's
//    lines, so re-segmenting a frame reproduces them.
//  - "varied": for training flow networks that must work on real 2D-animation frames.
//    Per scene and per object, drawn from the scene seed: cel-shading bands and highlights
//    on character and prop parts, colour gradients, textured backgrounds (multi-scale
//    noise, gradients, stripes/bricks/tiles, painted blotches), line colour and thickness
//    per object with thickness varying along the stroke, anti-aliased in some scenes (some
//    objects have no lines, most backgrounds none), palette moods (normal, saturated,
//    pastel, dark, warm), a motion multiplier per scene (~0.3x..2x of motion_scale), and in
//    some scenes per-frame Gaussian noise, slight blur and JPEG artefacts (degrade).
//    Shading and texture are functions of object or background coordinates carried by
//    the known affine maps, so flow, UnmatchedForward, LineArea and SegMatching stay exact
//    (the per-frame noise, blur and JPEG perturb colours by a few grey levels, and lines
//    are redrawn per frame). Segment maps here are not what re-segmenting the frame gives:
//    a segment is a 4-connected component of non-line pixels of one part and one shading
//    band (highlights included), line pixels joining the nearest one as in flat
//    (synth_paint.h). line_width is not used (thickness is drawn per object, 1..5 px at
//    960x540, scaled with the frame).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/jobs/job.h"

namespace animerun::data {

struct SynthOptions {
  std::string split = "test";   // sub-folder written under out_root ("train" or "test")
  int scenes = 2;               // number of scenes (sequences), 1..10000
  int frames = 6;               // frames per scene, 2..1000
  int width = 960;              // frame width in pixels, >= 64
  int height = 540;             // frame height in pixels, >= 64
  uint64_t seed = 1;            // same seed -> byte-identical output
  int color_passes = 1;         // recoloured passes color_1..color_N besides "original", >= 0
  double motion_scale = 1.0;    // multiplies all motion (1 = AnimeRun-like), in [0, 10]
  int line_width = 2;           // contour line thickness in pixels, 1..8 (flat style)
  std::string style = "flat";   // "flat" or "varied" (see above)
  bool degrade = true;          // varied style: per-frame noise, blur and JPEG in the scenes that draw them
  void Check() const;           // throws Error on bad values
};

// Writes <out_root>/<split>/{Frame_Anime,contour,Flow,Segment,SegMatching,
// UnmatchedForward,LineArea}/<scene>/... Scenes are named "synth_000", "synth_001", ...
// and frames "Image0000.png", .... Existing files of the same names are overwritten
// (each atomically). Reports progress and honours cancellation through job (throws
// Cancelled). Throws Error on bad options or failed writes.
void GenerateSynthDataset(const std::filesystem::path& out_root, const SynthOptions& options,
                          const JobContext* job = nullptr);

}  // namespace animerun::data
