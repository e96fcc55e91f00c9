// Comparing a predicted flow with the ground truth of one pair: the per-pixel end-point
// error as a heatmap with a colour scale (and legend values), and the pair's metrics
// computed exactly as `animerun eval-flow` computes them (FlowMetricsAccumulator fed the
// pair alone, with the same masks), so the GUI's numbers equal the CLI's for that pair.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/data/animerun_dataset.h"
#include "core/flow/flow_metrics.h"

namespace animerun::flow {

// Per-pixel EPE |pred - gt| as CV_32FC1, in float32 as the metrics (and torch) compute
// it; NaN where either flow is non-finite. Throws Error on type/size mismatch.
cv::Mat EndPointError(const cv::Mat& pred, const cv::Mat& gt);

// The largest |flow| over the finite pixels of a CV_32FC2 flow (0 when none): the common
// colour-wheel normalisation (FlowVizOptions::max_flow) that makes a prediction's colours
// comparable with the ground truth's.
double MaxFlowMagnitude(const cv::Mat& flow);

struct EpeScaleOptions {
  double max_epe = 0.0;      // fixed top of the scale in px; <= 0 picks it from the data
  double percentile = 99.0;  // data-picked top: this percentile of the finite EPEs (all maps
                             // pooled, so A and B share one scale), rounded up to 1/2/5 x 10^k
  int ticks = 5;             // legend values from 0 to the top, evenly spaced, >= 2
  void Check() const;
};

struct EpeScale {
  double max = 1.0;           // EPE drawn with the top colour; larger values saturate
  std::vector<double> ticks;  // legend values, 0 first, max last
};

// The scale for a set of EPE maps (empty maps are skipped; no finite pixel -> max 1 px).
EpeScale ChooseEpeScale(const std::vector<cv::Mat>& epes, const EpeScaleOptions& options = {});

// EPE map -> RGB CV_8UC3 heatmap: the inferno map, black at 0 px to yellow at scale.max.
// Non-finite pixels are drawn mid grey.
cv::Mat EpeToColor(const cv::Mat& epe, const EpeScale& scale);

// The colour bar of EpeToColor: RGB, `length` pixels along the value axis (vertical: 0 at
// the bottom, max at the top; horizontal: 0 on the left), `thickness` across.
cv::Mat EpeColorBar(int length, int thickness, bool vertical = true);

// The heatmap with its scale on the right (colour bar and tick values drawn as text), for
// files and reports. RGB CV_8UC3, the heatmap's height.
cv::Mat EpeHeatmapWithLegend(const cv::Mat& epe, const EpeScale& scale);

// The metrics of one pair, as eval-flow computes them. masks may be empty (their buckets
// are then absent). Throws Error on size mismatches and non-finite pixels (naming pred_name
// or gt_name).
FlowMetrics ScorePairFlow(const cv::Mat& pred, const cv::Mat& gt, const cv::Mat& unmatched_forward,
                          const cv::Mat& line_area, const std::string& pred_name = "prediction",
                          const std::string& gt_name = "ground truth");
// The same for a loaded pair; throws Error when it has no ground-truth forward flow.
FlowMetrics ScorePairFlow(const data::PairData& pair, const cv::Mat& pred, const std::string& pred_name = "prediction");

// The rows of a per-pair metrics table, in eval-flow's order: epe, epe_occ, epe_nonocc,
// epe_line, epe_flat, epe_s0_10, epe_s10_50, epe_s50plus, px1, px3, px5. Absent values
// (empty bucket, missing mask) stay nullopt.
struct MetricRow {
  std::string name;
  std::optional<double> value;
};
std::vector<MetricRow> MetricRows(const FlowMetrics& metrics);
// "1.2345" (4 decimals, as eval-flow's table), "-" when absent.
std::string FormatMetric(const std::optional<double>& value);

}  // namespace animerun::flow
