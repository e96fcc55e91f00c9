// Painting frames in the varied style (synth_style.h). On the same region map as the flat
// style (synth_render.h):
//  - paint: every pixel's colour is its region's palette colour times the Surface terms
//    evaluated at u = A_g(t)^-1 p, the pixel centre mapped into its group's coordinates,
//    so textures, gradients and shading bands move exactly with their group;
//  - bands: cel-shading bands and highlights (FrameMaps::band) are Surface regions in the
//    same coordinates, with hard edges;
//  - lines: every region boundary has an owner, the front-most object (root group) of the
//    regions that meet there; the owner's LineStyle decides whether it is drawn, in which
//    colour and how thick. Pixels within (thickness - 1) / 2 of the owner's 2-px boundary
//    (1-px boundary for strokes thinner than 1.5 px) are line pixels; the thickness varies
//    along the stroke with a noise in the owner's coordinates. With soft lines the pixels
//    just beyond get part of the line colour (anti-aliasing); they are not line pixels;
//  - segments: LabelFrameSegments with bands: 4-connected components of non-line pixels
//    of one region and one band, line pixels joined to the nearest component (the flat
//    rule otherwise). They are not what re-segmenting the shaded frame gives;
//  - per frame, the colour image may then be blurred, get Gaussian noise and a JPEG round
//    trip (SceneStyle); annotations describe the clean frame.
#pragma once

#include <opencv2/core.hpp>

#include "core/data/synth_render.h"
#include "core/data/synth_style.h"

namespace animerun::data::synth {

FrameMaps RenderStyledFrame(const SceneSpec& spec, const SceneStyle& style, int t);

// pass 0 = original palette, k >= 1 = spec.recolours[k-1]; same shading, lines and
// degradations for every pass (the degradation noise differs per pass). RGB CV_8UC3.
cv::Mat StyledColourImage(const SceneSpec& spec, const SceneStyle& style, const FrameMaps& frame, int pass);

}  // namespace animerun::data::synth
