// AnimeRun's segment-matching metrics, as the official segmat code computes them
// (SuperGlueSoftMax.forward for the per-pair values, SGM.eval for the summary):
//   accuracy          (gt == pred).sum() / len(gt); a -1 prediction is right when gt is -1
//   valid accuracy    over the segments with gt != -1
//   invalid accuracy  over the segments with gt == -1; pairs without any -1 are skipped
//   area accuracy     pixels (in frame t's segment map) of the correctly matched segments
//                     / pixels of segments 0..K-1 (K = number of distinct labels)
//   acc_300           mean accuracy over the pairs whose frame t+1 segment map has
//                     max label > 300 (the official "seg1.max() > 300")
// Each summary value is the mean of the per-pair values. Per-pair values are rounded to
// float32 as the official torch expressions produce them, then averaged in double.
// Deviation, documented: a pair whose gt has no matched segment (all -1) has no valid
// accuracy (the official code would produce NaN and poison the mean); it is skipped for
// that mean like invalid accuracy is.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace animerun::segments {

// The official acc_300 threshold on the max segment label of frame t+1.
constexpr int kLargePairMaxLabel = 300;

struct MatchPairMetrics {
  std::string scene;
  std::string name;            // frame t's file stem
  int num_segments = 0;        // len(gt)
  int num_gt_unmatched = 0;    // gt entries equal to -1
  int num_correct = 0;
  double accuracy = 0.0;
  std::optional<double> valid_accuracy;    // absent when gt has no entry != -1
  std::optional<double> invalid_accuracy;  // absent when gt has no -1
  std::optional<double> area_accuracy;     // absent without frame t's segment map
  std::optional<int> max_label2;           // max label of frame t+1's map, when given
  bool large() const { return max_label2 && *max_label2 > kLargePairMaxLabel; }
  nlohmann::json ToJson() const;
};

// Per-pair metrics. pred and gt must have the same length (> 0); values are ids or -1.
// segment1 (frame t labels, CV_32SC1) enables area accuracy, segment2 (frame t+1) the
// acc_300 membership; either may be empty. name (a file path) names errors.
MatchPairMetrics ComputeMatchPairMetrics(const std::vector<int>& pred, const std::vector<int>& gt,
                                         const cv::Mat& segment1, const cv::Mat& segment2,
                                         const std::string& name = "matching");

// Summary over a set of pairs; absent (JSON null) when no pair contributes, and
// area_acc / acc_300 also when a pair of the set lacked the segment map they need.
struct MatchMetrics {
  std::optional<double> acc, valid_acc, invalid_acc, acc_300, area_acc;
  int64_t pairs = 0;
  int64_t pairs_valid = 0;    // pairs averaged into valid_acc
  int64_t pairs_invalid = 0;  // pairs averaged into invalid_acc
  int64_t pairs_300 = 0;      // pairs averaged into acc_300
  int64_t segments = 0;       // sum of len(gt)
  nlohmann::json ToJson() const;
};

struct MatchEvalResult {
  MatchMetrics overall;
  std::map<std::string, MatchMetrics> scenes;
  std::vector<MatchPairMetrics> per_pair;  // in evaluation order
  // overall's keys plus "scenes" (and "per_pair" when asked).
  nlohmann::json ToJson(bool with_pairs = false) const;
};

class MatchMetricsAccumulator {
 public:
  void Add(const MatchPairMetrics& pair);
  MatchEvalResult Result() const;
  int64_t pairs() const { return static_cast<int64_t>(pairs_.size()); }

 private:
  std::vector<MatchPairMetrics> pairs_;
};

// Summary of any subset of pairs (the accumulator uses it for the whole set and each scene).
MatchMetrics SummarizeMatchPairs(const std::vector<const MatchPairMetrics*>& pairs);

// A readable table (one row per scene, then the overall row) for the CLI.
std::string FormatMatchTable(const MatchEvalResult& result);

}  // namespace animerun::segments
