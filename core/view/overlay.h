// What the pair view draws over a frame: flow colour and arrows, segment boundaries, the
// occlusion and line masks, and the selected segment. The GUI displays ComposeFrameView's
// image as it is; the CLI can write the same image.
//
// Frame t (frame 0) shows the forward flow (t -> t+1) and the masks, which are defined on
// frame t. Frame t+1 (frame 1) shows the backward flow (t+1 -> t) when the pair has it;
// the masks are not drawn there.
#pragma once

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"

namespace animerun::view {

struct OverlayOptions {
  bool flow_color = false;      // blend the colour-wheel flow image over the frame
  bool flow_arrows = false;     // draw flow arrows
  bool boundaries = false;      // draw segment boundaries
  bool occlusion = false;       // tint occluded pixels (UnmatchedForward == 0), frame t only
  bool lines = false;           // tint line pixels (LineArea == 0), frame t only
  double flow_opacity = 0.85;   // 0..1, weight of the flow colour over the frame
  double mask_opacity = 0.55;   // 0..1, weight of the occlusion / line tints
  int arrow_step = 16;          // pixels between arrows, >= 2
  double arrow_scale = 1.0;     // arrow length per pixel of flow, > 0
  double max_flow = 0.0;        // colour saturation magnitude in px; 0 = each flow's own maximum
  void Check() const;           // throws Error on bad values
};

// Overlay colours (RGB), shared by the legend texts of the GUI.
extern const cv::Vec3b kOcclusionColor;  // magenta
extern const cv::Vec3b kLineColor;       // cyan
extern const cv::Vec3b kBoundaryColor;   // orange
extern const cv::Vec3b kHighlightColor;  // yellow fill of the selected segment
extern const cv::Vec3b kHighlightEdge;   // red outline of the selected segment

// Blends color over rgb (CV_8UC3, in place) where mask (CV_8UC1, same size) is non-zero:
// out = (1 - alpha) * in + alpha * color. An empty mask does nothing. Throws Error on
// type or size mismatches, or alpha outside [0, 1].
void TintMask(cv::Mat& rgb, const cv::Mat& mask, const cv::Vec3b& color, double alpha);

// Sets the pixels of rgb where mask is non-zero to color (CV_8UC3 in place).
void PaintMask(cv::Mat& rgb, const cv::Mat& mask, const cv::Vec3b& color);

// CV_8UC1 255 where UnmatchedForward == 0 (occluded, the official polarity); empty in, empty out.
cv::Mat OcclusionMask(const cv::Mat& unmatched_forward);
// CV_8UC1 255 where LineArea == 0 (line pixels, the official polarity).
cv::Mat LineMask(const cv::Mat& line_area);

// The flow drawn on a frame: forward for frame 0, backward for frame 1 (may be empty).
const cv::Mat& FlowForFrame(const data::PairData& pair, int frame);

// The colour-wheel image is by far the costliest overlay (~65 ms at 960x540, the exact RAFT
// colouring); the view keeps it between calls for the same pair. Clear() it when the pair
// changes; an entry is also refreshed when the flow's data or max_flow differ.
struct FlowColorCache {
  cv::Mat colors[2];
  const void* flow_data[2] = {nullptr, nullptr};
  double max_flow[2] = {-1.0, -1.0};
  void Clear() { *this = FlowColorCache(); }
};

// The frame (0 = t, 1 = t+1) with the overlays of options, as RGB CV_8UC3 of the frame's
// size. highlight: a segment id of this frame to fill and outline (-1 for none). A frame
// without image (missing file) starts from mid grey at the size of its other maps.
// cache (optional) keeps the flow colours. Calls for frames 0 and 1 may run concurrently,
// also with one cache. Throws Error when the pair has nothing to size the frame from.
cv::Mat ComposeFrameView(const data::PairData& pair, int frame, const OverlayOptions& options,
                         int highlight = -1, FlowColorCache* cache = nullptr);

// Largest finite flow magnitude of a CV_32FC2 flow (0 for an empty flow), the value the
// colour legend saturates at when max_flow is 0.
double MaxFlowMagnitude(const cv::Mat& flow);

}  // namespace animerun::view
