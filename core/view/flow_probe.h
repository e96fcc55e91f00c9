// Hover lookups and the pixel geometry of the pair view: which pixel a view point falls
// on, the flow there, and where that pixel lands in the other frame.
//
// Coordinates: pixel (x, y) covers the square [x, x+1) x [y, y+1) of the view ("scene")
// coordinates, so its centre is (x + 0.5, y + 0.5). A flow (u, v) at pixel (x, y) moves its
// centre to (x + 0.5 + u, y + 0.5 + v) in the other frame, as the dataset's flow is defined
// between pixel centres.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"

namespace animerun::view {

// The pixel under view point (sx, sy): (floor(sx), floor(sy)).
cv::Point PixelAt(double sx, double sy);
// The view point of a pixel position's centre: p + (0.5, 0.5) (sub-pixel p allowed).
cv::Point2d PixelCenter(const cv::Point2d& p);

// A view shows the scene scaled by zoom with scene point origin at the top-left corner of
// viewport pixel (0, 0). Viewport pixel v covers [v, v+1): the image pixel under its centre,
// and the viewport pixel containing a scene point (the inverse at zoom >= 1).
cv::Point ViewportToPixel(const cv::Point2d& origin, double zoom, cv::Point viewport);
cv::Point SceneToViewport(const cv::Point2d& origin, double zoom, const cv::Point2d& scene);

// Zoom steps of the pair view: each step multiplies by 1.25, clamped to [kMinZoom, kMaxZoom].
constexpr double kMinZoom = 0.05;
constexpr double kMaxZoom = 64.0;
double ZoomStep(double zoom, int steps);  // steps > 0 zooms in, < 0 out
double ClampZoom(double zoom);
// The largest zoom at which an image of image_size fits in a viewport of view_size
// (clamped like ClampZoom; 1 for empty sizes).
double FitZoom(cv::Size image_size, cv::Size view_size);

// What is under the mouse in frame 0 (t, forward flow) or frame 1 (t+1, backward flow).
struct FlowProbe {
  int frame = 0;
  cv::Point pixel{-1, -1};
  bool inside = false;        // pixel lies in the frame
  bool has_flow = false;      // the frame has a flow and the value is finite
  cv::Point2f flow{0, 0};     // (u, v) in pixels
  cv::Point2d target{0, 0};   // view point the pixel's centre moves to in the other frame
  bool target_inside = false; // target lies within the other frame
  int occluded = -1;          // frame t: 1 = occluded (UnmatchedForward == 0), 0 = not; -1 unknown
  int line = -1;              // frame t: 1 = line (LineArea == 0), 0 = flat; -1 unknown
  int segment = -1;           // label under the pixel, -1 without a label map
  // "t (412, 230)  flow (3.25, -1.50) |2.96| -> t+1 (415.75, 228.50)  occluded  line  segment 17"
  std::string Describe() const;
};

FlowProbe ProbeFlow(const data::PairData& pair, int frame, cv::Point pixel);

}  // namespace animerun::view
