// Flow visualisation: the Middlebury colour wheel (Baker et al.) exactly as RAFT's
// flow_viz.flow_to_image, and arrow (quiver) rendering.
#pragma once

#include <opencv2/core.hpp>

namespace animerun::flow {

struct FlowVizOptions {
  // Normalise by this maximum magnitude; <= 0 means the flow's own maximum (as RAFT does,
  // after clipping). Pixels beyond a fixed maximum saturate.
  double max_flow = 0.0;
  // Clip u and v to [0, clip_flow] before normalising when > 0 (RAFT's clip_flow, which
  // clips to [0, clip], kept as the official code does).
  double clip_flow = 0.0;
  bool bgr = false;  // channel order of the output (RAFT's convert_to_bgr)
  void Check() const;
};

// CV_32FC2 flow -> CV_8UC3 image (RGB unless options.bgr). NaN/inf pixels are drawn black
// and ignored for the maximum.
cv::Mat FlowToColor(const cv::Mat& flow, const FlowVizOptions& options = {});

// The colour wheel legend: a size x size RGB image, saturating at the circle's edge.
cv::Mat ColorWheelLegend(int size);

struct ArrowOptions {
  int step = 16;             // one arrow every step pixels
  double scale = 1.0;        // arrow length = scale * flow
  cv::Scalar color = cv::Scalar(0, 0, 0);  // RGB
  int thickness = 1;
  double min_magnitude = 0.5;  // skip arrows shorter than this (px, before scale)
  void Check() const;
};

// Draws arrows of the flow onto a copy of image (RGB CV_8UC3; any size-matching image).
cv::Mat DrawFlowArrows(const cv::Mat& image, const cv::Mat& flow, const ArrowOptions& options = {});

}  // namespace animerun::flow
