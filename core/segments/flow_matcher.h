// Flow-guided segment matching: every pixel of a segment in frame t is carried by the flow
// (t -> t+1) to the rounded position floor(p + f(p) + 0.5), and votes for the segment of
// frame t+1 found there; the segment goes to the target with most votes. This mirrors how
// the ground truth is made (majority of the visible pixels' flow targets, non-line pixels
// first, and the target must be the same region).
//
// Which pixels vote:
//  - the target must lie inside frame t+1;
//  - with a backward flow (t+1 -> t): forward-backward consistency, |f(p) + b(q)| <=
//    fb_tolerance px, the standard occlusion test (with exact flows it finds exactly the
//    pixels hidden by an object that moves differently);
//  - optionally (colour_tolerance >= 0, images given) the pixel's colour and its target's
//    must agree. Off by default: it also drops pixels landing on lines and cannot see an
//    occluder of the same colour; measured on generated pairs it lowers accuracy;
//  - pixels on lines (brightest channel < line_threshold in frame t) vote only for
//    segments that have no vote from a non-line pixel (thin parts drawn entirely as line).
// Result: -1 when fewer than min_pixels votes, or fewer than min_fraction of the segment's
// area, were cast, or the winner's share is below min_share, or (images given) the
// winner's dominant non-line colour differs from the segment's by more than
// segment_colour_tolerance (a region keeps its paint; a segment whose pixels land on a
// differently painted one has vanished, e.g. shrunk into a line). confidence = winner's
// share of the votes. Ties go to the smaller target id.
#pragma once

#include <memory>
#include <string>

#include "core/segments/matcher.h"

namespace animerun::flow {
class FlowRunner;
}

namespace animerun::segments {

struct FlowMatcherOptions {
  int min_pixels = 1;            // fewest votes for a match (absolute pixel count)
  double min_fraction = 0.0;     // fewest votes as a fraction of the segment's area, [0, 1]
  double min_share = 0.0;        // the winner's share of the votes must reach this, [0, 1]
  int colour_tolerance = -1;             // per vote: max abs channel difference pixel/target; -1 = off
  int segment_colour_tolerance = 24;     // winner's dominant colour vs the segment's; -1 = off
  int line_threshold = 64;               // brightest channel below this = line pixel (as in segmentation)
  double fb_tolerance = 1.5;             // forward-backward consistency tolerance, px (with a backward flow)
  bool predict_backward = true;          // with a flow model: also predict t+1 -> t for that test
  void Check() const;                    // throws Error on bad values
};

class FlowMatcher : public SegmentMatcher {
 public:
  // Without a runner every input must carry its flow.
  explicit FlowMatcher(const FlowMatcherOptions& options = {});
  // runner (may be null) predicts the flow from the two images when the input carries none.
  // Two constructors rather than a default argument: callers that give no runner need not
  // see FlowRunner's definition.
  FlowMatcher(const FlowMatcherOptions& options, std::unique_ptr<flow::FlowRunner> runner);
  ~FlowMatcher() override;
  std::string name() const override { return "flow"; }
  // Throws Error when the input has no flow and no runner was given, or when the maps'
  // sizes or types disagree.
  MatchResult Match(const MatchInput& input) override;
  // Match with a backward flow (t+1 -> t) for the consistency test, e.g. the dataset's
  // ground-truth backward flow beside input.flow.
  MatchResult Match(const MatchInput& input, const cv::Mat& backward);

 private:
  FlowMatcherOptions options_;
  std::unique_ptr<flow::FlowRunner> runner_;
};

// The voting itself, for callers that hold a flow already (labels CV_32SC1, flow CV_32FC2,
// images optional: empty = no colour test and no line rule; backward optional (CV_32FC2,
// t+1 -> t, frame t+1's size): enables the consistency test).
MatchResult MatchByFlow(const cv::Mat& labels0, const cv::Mat& labels1, const cv::Mat& flow, const cv::Mat& image0,
                        const cv::Mat& image1, const FlowMatcherOptions& options,
                        const cv::Mat& backward = cv::Mat());

}  // namespace animerun::segments
