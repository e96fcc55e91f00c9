// AnimeRun's optical-flow metrics, computed as the official flow/evaluate.py
// (validate_anime) computes them: per-pixel end-point error (float32, as torch does),
// pooled over every pixel of every pair (a mean over the concatenation, not a mean of
// per-pair means), with the official mask polarity:
//   epe_occ    UnmatchedForward == 0      epe_nonocc  UnmatchedForward == 1
//   epe_line   LineArea == 0              epe_flat    LineArea > 0
//   epe_s0_10  |gt| <= 10                 epe_s10_50  10 < |gt| <= 50     epe_s50plus |gt| > 50
//   px1/px3/px5 = fraction of pixels with epe < 1 / 3 / 5
// The official code forces valid to all-true, so pixels with |gt| >= 1000 count too.
// Sums are double, so the results equal NumPy's float64 mean of the float32 EPEs.
//
// Non-finite values are refused: a NaN/inf in a prediction (or ground truth) throws Error
// naming the file and the number of such pixels, rather than silently poisoning the mean.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace animerun::flow {

// The EPE buckets, in the order of kFlowBucketNames.
enum class FlowBucket { kAll, kOcc, kNonOcc, kLine, kFlat, kS0_10, kS10_50, kS50Plus, kCount };
constexpr int kNumFlowBuckets = static_cast<int>(FlowBucket::kCount);
// JSON keys: "epe", "epe_occ", "epe_nonocc", "epe_line", "epe_flat", "epe_s0_10",
// "epe_s10_50", "epe_s50plus".
extern const std::array<const char*, kNumFlowBuckets> kFlowBucketNames;

// Results over one set of pairs. An absent value (std::nullopt, JSON null) means the
// bucket is empty, or that its mask was missing for at least one pair of the set (a mean
// over only some of the pairs would be misleading).
struct FlowMetrics {
  std::array<std::optional<double>, kNumFlowBuckets> epe{};     // mean EPE per bucket
  std::array<int64_t, kNumFlowBuckets> bucket_pixels{};         // pixels in each bucket
  std::optional<double> px1, px3, px5;                          // fraction with epe < 1/3/5
  int64_t pairs = 0;
  int64_t pixels = 0;

  std::optional<double> Get(FlowBucket b) const { return epe[static_cast<int>(b)]; }
  // {"epe":..., ..., "px1":..., "pairs": n, "pixels": n, "bucket_pixels": {...}}.
  nlohmann::json ToJson() const;
};

struct FlowEvalResult {
  FlowMetrics overall;
  std::map<std::string, FlowMetrics> scenes;  // per scene, same definitions
  // overall's keys plus "scenes": {name: {...}}.
  nlohmann::json ToJson() const;
};

// Per-pair sums, pooled into the overall and the scene totals.
class FlowMetricsAccumulator {
 public:
  // Adds one pair. pred and gt: CV_32FC2 of the same size. unmatched_forward and
  // line_area: CV_8UC1 of that size, or empty (then the buckets they define are absent).
  // pred_name / gt_name name the sources in error messages (file paths when there are).
  // Throws Error for size/type mismatches and for non-finite pixels.
  void Add(const std::string& scene, const cv::Mat& pred, const cv::Mat& gt, const cv::Mat& unmatched_forward,
           const cv::Mat& line_area, const std::string& pred_name = "prediction",
           const std::string& gt_name = "ground truth");

  FlowEvalResult Result() const;
  int64_t pairs() const { return total_.pairs; }

 private:
  struct Sums {
    std::array<double, kNumFlowBuckets> sum{};
    std::array<int64_t, kNumFlowBuckets> count{};
    int64_t below1 = 0, below3 = 0, below5 = 0;
    int64_t pairs = 0;
    bool missing_unmatched = false;  // some pair had no UnmatchedForward mask
    bool missing_line = false;       // some pair had no LineArea mask
    void Merge(const Sums& o);
    FlowMetrics ToMetrics() const;
  };
  Sums total_;
  std::map<std::string, Sums> scenes_;
};

// A readable table of the result (overall row, then one row per scene) for the CLI.
std::string FormatFlowTable(const FlowEvalResult& result);

}  // namespace animerun::flow
