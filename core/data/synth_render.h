// Rendering and exact annotations for the synthetic generator. A frame is rasterised into
// a region map (the top-most region per pixel, painter's order); everything else is
// derived from it and from the groups' affine maps:
//  - lines: pixels with a 4-neighbour of another region (2 px thick at width 2);
//  - segments: segments::LabelSegments on the line mask, the segmenter's own rule (see
//    core/segments/segmentation.h): 4-connected components of non-line pixels; each line
//    pixel joins the component nearest in 4-connected steps through line pixels
//    (breadth-first from the non-line pixels, raster order); ids are ordered by final
//    area (descending), ties by first raster position;
//  - flow of pixel p (centre at integer (x, y)) in group g: A_g(t+1) A_g(t)^-1 p - p;
//  - visibility: the rounded target lies in the frame and shows the same group there;
//  - matching: segment i goes to the segment of the other frame that receives most of its
//    visible non-line pixels (its visible line pixels when it has none), when both come
//    from the same region (and the same shading band); else -1.
// The varied style (synth_paint.h) draws its own lines and shading bands on the same
// region map and reuses the rest; its segments are split by band and region as well.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "core/data/synth_scene.h"

namespace animerun::data::synth {

struct FrameMaps {
  int t = 0;                         // frame index
  cv::Mat region;                    // CV_32SC1, top-most region per pixel
  cv::Mat group;                     // CV_32SC1, motion group per pixel
  cv::Mat line;                      // CV_8UC1, 1 on contour lines, 0 elsewhere
  cv::Mat segments;                  // CV_32SC1, ids 0..N-1
  std::vector<int> segment_region;   // region of each segment's non-line pixels
  std::vector<int> segment_band;     // shading band of each segment's non-line pixels (0 in flat)
  std::vector<Affine> affines;       // every group's map at this frame
  // Varied style only (empty in flat):
  cv::Mat band;        // CV_8UC1, shading band per pixel: 0 base, 1-2 shadow bands, 3 highlight
  cv::Mat line_owner;  // CV_32SC1, the group whose line style draws the pixel (line or fringe), else -1
  cv::Mat line_fringe; // CV_8UC1, on non-line pixels next to a stroke its anti-aliasing coverage, 0..255
  cv::Mat shade;       // CV_32FC4, per pixel colour multipliers (R, G, B) and highlight weight
};

// The flat style: region map, lines at line_width, segments.
FrameMaps RenderFrame(const SceneSpec& spec, int t, int line_width);

// Building blocks shared with the varied style. RasteriseFrame fills t, affines, region
// and group; LabelFrameSegments fills segments, segment_region and segment_band from line
// (and, when band is set, splits components where the region or the band changes).
FrameMaps RasteriseFrame(const SceneSpec& spec, int t);
void LabelFrameSegments(FrameMaps& frame);

// pass 0 = original palette, k >= 1 = spec.recolours[k-1]. Lines keep the line colour.
cv::Mat ColourImage(const SceneSpec& spec, const FrameMaps& frame, int pass);  // RGB CV_8UC3
cv::Mat ContourImage(const FrameMaps& frame);   // CV_8UC1: 0 on lines, 255 elsewhere
cv::Mat LineAreaMask(const FrameMaps& frame);   // CV_8UC1: 0 on lines, 1 elsewhere

// Exact flow from frame `from` to frame `to` (CV_32FC2), and where it is visible
// (CV_8UC1, 1 = the same group is top-most at the rounded target inside the frame).
cv::Mat ExactFlow(const FrameMaps& from, const FrameMaps& to);
cv::Mat VisibleMask(const FrameMaps& from, const FrameMaps& to, const cv::Mat& flow);
std::vector<int> MatchSegments(const FrameMaps& from, const FrameMaps& to, const cv::Mat& flow,
                               const cv::Mat& visible);

}  // namespace animerun::data::synth
