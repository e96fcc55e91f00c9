// Segment matchers: for each segment of frame t, the segment of frame t+1 it continues as,
// or -1. AnT (a network), flow-guided voting and a geometric matcher implement this one
// interface, so the CLI (`match`, `eval-match --matcher`, `colorize`) and the GUI
// (correspondence panel, colorization) select them by name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace animerun::segments {

// Frames and their label maps. Images are RGB CV_8UC3 (colour or line art), labels
// CV_32SC1 with ids 0..N-1. flow (CV_32FC2, t -> t+1) is optional and used by matchers
// that want it (the flow-guided one requires it).
struct MatchInput {
  cv::Mat image0, image1;
  cv::Mat labels0, labels1;
  cv::Mat flow;
};

struct MatchResult {
  std::vector<int> matches;         // size N0; id in frame t+1 or -1 (unmatched)
  std::vector<float> confidence;    // size N0; in [0, 1], the matcher's belief in matches[i]
  // Optional: raw score matrix (N0+1) x (N1+1) with the dustbin row/column, CV_32FC1,
  // before any softmax (AnT fills it; others may leave it empty).
  cv::Mat scores;
};

class SegmentMatcher {
 public:
  virtual ~SegmentMatcher() = default;
  virtual std::string name() const = 0;
  virtual MatchResult Match(const MatchInput& input) = 0;
};

}  // namespace animerun::segments
