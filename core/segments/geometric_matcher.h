// Geometric segment matching (no flow, no network), the way artists' colouring tools pair
// regions: a cost for every (segment of t, segment of t+1) from
//   position  distance between the centroids after motion compensation, in units of
//             position_scale * frame diagonal;
//   area      |log2(area ratio)|;
//   shape     L1 distance of the first four log-mapped Hu invariants (segment_stats.h);
//   colour    RGB distance of the mean non-line colours / colour_scale, only when both
//             frames are coloured (line art carries no colour);
// each times its weight, then a one-to-one assignment (Hungarian, or greedy mutual-best:
// cheapest pair first) with pairs costing more than max_cost left unmatched (-1).
//
// Motion compensation: a first assignment with the plain (uncompensated) cost, gated to
// pairs within gate_scale * diagonal, gives anchors, the pairs cheaper than max_cost / 2;
// the expected displacement of every segment is the anchors' median displacement (one
// global motion: per-segment estimates from neighbouring anchors measured worse).
// Weights tuned on generated 960x540 pairs (seed 77, 3 scenes x 4 frames): on line art the
// plain weights (accuracy 0.78; the lighter set gives 0.70); on colour frames lighter area,
// shape and neighbour weights (0.89 against 0.84 with the plain ones).
// Neighbours: a last pass lowers the cost of (i, j) by neighbour_weight times the share of
// i's neighbours whose current match is a neighbour of j (matches that keep the local
// arrangement win). Confidence = 1 - cost / max_cost, clamped to [0, 1].
#pragma once

#include <string>
#include <vector>

#include "core/segments/matcher.h"

namespace animerun::segments {

struct GeometricMatcherOptions {
  std::string assignment = "hungarian";  // "hungarian" (optimal) or "greedy" (mutual best)
  double position_weight = 1.0;   // cost per position_scale of centroid distance
  double position_scale = 0.03;   // fraction of the frame diagonal
  double gate_scale = 0.25;       // first pass: candidates within this fraction of the diagonal
  double area_weight = 1.0;       // cost per doubling of the area
  double shape_weight = 0.5;      // cost per unit of log-Hu L1 distance
  double colour_weight = 1.0;     // cost per colour_scale of mean-colour distance
  double colour_scale = 30.0;     // RGB distance worth one unit of cost
  double neighbour_weight = 1.0;  // bonus for neighbourhood agreement, [0, 10]
  // Used instead of the three above when both frames are coloured (the colour term then
  // carries most of the identity; tuned on generated pairs, see the note above).
  double colour_area_weight = 0.5;
  double colour_shape_weight = 0.1;
  double colour_neighbour_weight = 0.5;
  double max_cost = 3.0;          // costlier pairs are left unmatched
  bool compensate_motion = true;  // estimate each segment's displacement first
  int line_threshold = 64;        // brightest channel below this = line (excluded from colours)
  void Check() const;             // throws Error on bad values
};

class GeometricMatcher : public SegmentMatcher {
 public:
  explicit GeometricMatcher(const GeometricMatcherOptions& options = {});
  std::string name() const override { return "geometric"; }
  // Throws Error when a label map is not CV_32SC1 with ids >= 0, or the two maps (or a
  // given image and its map) differ in size.
  // images may be empty (no colour term); fills scores with the final cost matrix
  // (N0+1) x (N1+1), the last row/column holding max_cost (the dustbin).
  MatchResult Match(const MatchInput& input) override;

 private:
  GeometricMatcherOptions options_;
};

// Minimum-cost one-to-one assignment of a rows x cols cost matrix (CV_64FC1, any shape):
// result[r] = column or -1 (more rows than columns). Exposed for tests.
std::vector<int> SolveAssignment(const cv::Mat& cost);

// Greedy mutual-best: pairs by increasing cost, taken when both are free and the cost is
// below max_cost.
std::vector<int> GreedyAssignment(const cv::Mat& cost, double max_cost);

}  // namespace animerun::segments
