// Segment views for the GUI and the CLI: boundary masks of label maps, and what a click on
// a segment means (its id and its ground-truth match in the other frame).
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"

namespace animerun::view {

// CV_8UC1, 255 where a pixel's label differs from one of its 4-neighbours (both sides of
// an edge, so the line stays visible when the view is zoomed out), 0 elsewhere.
// labels: CV_32SC1. Throws Error for another type.
cv::Mat SegmentBoundaryMask(const cv::Mat& labels);

// CV_8UC1, 255 on the pixels whose label is id (none when id < 0).
cv::Mat SegmentMask(const cv::Mat& labels, int id);

// The label at pixel p, or -1 when labels is empty or p lies outside.
int LabelAt(const cv::Mat& labels, cv::Point p);

// The id stored for a segment in a matching vector: matches[id], or -1 when the id has no
// entry (the official JSON lists every segment; a missing one is unmatched).
int MatchOf(const std::vector<int>& matches, int id);

// A click on frame t (frame 0) or t+1 (frame 1), resolved with the pair's ground truth:
// frame t uses the forward matching (t -> t+1), frame t+1 the backward one (t+1 -> t).
struct SegmentPick {
  int frame = 0;            // where the click was: 0 = t, 1 = t+1
  cv::Point pixel{-1, -1};
  int segment = -1;         // label under the click; -1 outside or without a label map
  bool has_matching = false;  // the pair has the matching file for this direction
  int match = -1;           // segment id in the other frame, -1 = unmatched
  int area = 0;             // pixels of `segment` in its frame
  int match_area = 0;       // pixels of `match` in the other frame (0 when unmatched or absent)
  cv::Rect match_box;       // bounding box of `match` in the other frame (empty when none)
  bool valid() const { return segment >= 0; }
  bool matched() const { return match >= 0; }
  // One line for the status bar: "t: segment 12 (340 px) -> t+1: segment 15 (352 px)",
  // "t: segment 12 (340 px) is unmatched in t+1", "t: no segment map", ...
  std::string Describe() const;
};

SegmentPick PickSegment(const data::PairData& pair, int frame, cv::Point pixel);

}  // namespace animerun::view
