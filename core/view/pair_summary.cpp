#include "core/view/pair_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include <opencv2/imgproc.hpp>

#include "core/flow/flow_metrics.h"
#include "core/io/image_io.h"
#include "core/util/error.h"
#include "core/view/overlay.h"

namespace animerun::view {

namespace fs = std::filesystem;

namespace {

int CountDistinct(const cv::Mat& labels) {
  double lo = 0, hi = 0;
  cv::minMaxLoc(labels, &lo, &hi);
  // Labels are small dense ids in practice; a bitmap is much faster than a hash set.
  if (hi - lo < 1 << 24) {
    std::vector<uint8_t> seen(static_cast<size_t>(hi - lo) + 1, 0);
    const int base = static_cast<int>(lo);
    for (int y = 0; y < labels.rows; ++y) {
      const int* row = labels.ptr<int>(y);
      for (int x = 0; x < labels.cols; ++x) seen[row[x] - base] = 1;
    }
    return static_cast<int>(std::count(seen.begin(), seen.end(), 1));
  }
  std::unordered_set<int> seen;
  for (int y = 0; y < labels.rows; ++y) {
    const int* row = labels.ptr<int>(y);
    seen.insert(row, row + labels.cols);
  }
  return static_cast<int>(seen.size());
}

std::string Num(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The per-bucket values of a metrics result, in the official bucket order.
std::vector<std::pair<std::string, double>> Buckets(const flow::FlowMetrics& m) {
  std::vector<std::pair<std::string, double>> out;
  for (int b = 0; b < flow::kNumFlowBuckets; ++b)
    if (m.epe[b]) out.emplace_back(flow::kFlowBucketNames[b], *m.epe[b]);
  return out;
}

// Masks the metrics accept: same size as the flow, else left out.
const cv::Mat& MaskOrEmpty(const cv::Mat& mask, cv::Size size) {
  static const cv::Mat empty;
  return mask.size() == size ? mask : empty;
}

}  // namespace

PairSummary SummarizePair(const data::PairData& pair) {
  PairSummary s;
  s.size = !pair.image1.empty() ? pair.image1.size() : pair.segment1.size();
  if (!pair.segment1.empty()) s.segments1 = CountDistinct(pair.segment1);
  if (!pair.segment2.empty()) s.segments2 = CountDistinct(pair.segment2);
  if (!pair.match_forward.empty()) {
    s.forward_entries = static_cast<int>(pair.match_forward.size());
    s.matched_forward = static_cast<int>(
        std::count_if(pair.match_forward.begin(), pair.match_forward.end(), [](int m) { return m >= 0; }));
  }
  if (!pair.unmatched_forward.empty())
    s.occluded_fraction = cv::countNonZero(OcclusionMask(pair.unmatched_forward)) /
                          static_cast<double>(pair.unmatched_forward.total());
  if (!pair.line_area.empty())
    s.line_fraction = cv::countNonZero(LineMask(pair.line_area)) / static_cast<double>(pair.line_area.total());
  const cv::Mat& flow = pair.flow_forward;
  if (!flow.empty() && flow.type() == CV_32FC2) {
    double sum = 0.0, best = 0.0;
    int64_t n = 0;
    for (int y = 0; y < flow.rows; ++y) {
      const cv::Vec2f* row = flow.ptr<cv::Vec2f>(y);
      for (int x = 0; x < flow.cols; ++x) {
        const double m = std::hypot(row[x][0], row[x][1]);
        if (!std::isfinite(m)) continue;
        sum += m;
        best = std::max(best, m);
        ++n;
      }
    }
    if (n > 0) {
      s.mean_flow = sum / n;
      s.max_flow = best;
    }
    if (n == static_cast<int64_t>(flow.total())) {  // the metrics refuse non-finite flows
      flow::FlowMetricsAccumulator acc;
      acc.Add("pair", cv::Mat::zeros(flow.size(), CV_32FC2), flow, MaskOrEmpty(pair.unmatched_forward, flow.size()),
              MaskOrEmpty(pair.line_area, flow.size()), "zero flow", "forward flow");
      const flow::FlowMetrics m = acc.Result().overall;
      s.mean_motion = Buckets(m);
      // Empty buckets count 0 pixels; the mask buckets only exist with their mask.
      const bool have_occ = pair.unmatched_forward.size() == flow.size();
      const bool have_line = pair.line_area.size() == flow.size();
      for (int b = 0; b < flow::kNumFlowBuckets; ++b) {
        const auto bucket = static_cast<flow::FlowBucket>(b);
        if ((bucket == flow::FlowBucket::kOcc || bucket == flow::FlowBucket::kNonOcc) && !have_occ) continue;
        if ((bucket == flow::FlowBucket::kLine || bucket == flow::FlowBucket::kFlat) && !have_line) continue;
        s.bucket_pixels.emplace_back(flow::kFlowBucketNames[b], m.bucket_pixels[b]);
      }
    }
  }
  return s;
}

std::vector<std::string> PairSummary::Lines() const {
  std::vector<std::string> lines;
  lines.push_back("size  " + std::to_string(size.width) + " x " + std::to_string(size.height));
  if (segments1 || segments2)
    lines.push_back("segments  t: " + (segments1 ? std::to_string(*segments1) : std::string("-")) +
                    "  t+1: " + (segments2 ? std::to_string(*segments2) : std::string("-")));
  if (matched_forward)
    lines.push_back("matched t->t+1  " + std::to_string(*matched_forward) + " of " + std::to_string(*forward_entries) +
                    " (" + std::to_string(*forward_entries - *matched_forward) + " unmatched)");
  if (occluded_fraction) lines.push_back("occluded  " + Num("%.1f %%", *occluded_fraction * 100.0));
  if (line_fraction) lines.push_back("line pixels  " + Num("%.1f %%", *line_fraction * 100.0));
  if (mean_flow) lines.push_back("|flow|  mean " + Num("%.2f", *mean_flow) + "  max " + Num("%.2f px", *max_flow));
  // Compact: the official buckets in pairs of related regions.
  auto motion = [&](const char* a, const char* la, const char* b, const char* lb) {
    const double* va = nullptr;
    const double* vb = nullptr;
    for (const auto& [name, v] : mean_motion) {
      if (name == a) va = &v;
      if (name == b) vb = &v;
    }
    if (!va && !vb) return;
    std::string line = "mean |flow|";
    if (va) line += std::string("  ") + la + " " + Num("%.2f", *va);
    if (vb) line += std::string("  ") + lb + " " + Num("%.2f", *vb);
    lines.push_back(line);
  };
  motion("epe_occ", "occluded", "epe_nonocc", "visible");
  motion("epe_line", "line", "epe_flat", "flat");
  const double total = static_cast<double>(size.area());
  std::string speeds;
  for (const auto& [name, n] : bucket_pixels) {
    const char* label = name == "epe_s0_10" ? "<=10" : name == "epe_s10_50" ? "10-50" : name == "epe_s50plus" ? ">50" : nullptr;
    if (label && total > 0) speeds += std::string("  ") + label + " " + Num("%.1f%%", 100.0 * n / total);
  }
  if (!speeds.empty()) lines.push_back("pixels by |flow| px" + speeds);
  return lines;
}

PredictionScore ScorePrediction(const data::PairData& pair, const cv::Mat& predicted_flow, const std::string& name) {
  const cv::Mat& gt = pair.flow_forward;
  if (gt.empty()) throw Error(name + ": the pair has no ground-truth forward flow to compare with");
  if (predicted_flow.size() != gt.size())
    throw Error(name + ": size " + std::to_string(predicted_flow.cols) + "x" + std::to_string(predicted_flow.rows) +
                " differs from the ground truth's " + std::to_string(gt.cols) + "x" + std::to_string(gt.rows));
  flow::FlowMetricsAccumulator acc;
  acc.Add("pair", predicted_flow, gt, MaskOrEmpty(pair.unmatched_forward, gt.size()),
          MaskOrEmpty(pair.line_area, gt.size()), name, "ground truth");
  const flow::FlowMetrics m = acc.Result().overall;
  PredictionScore score;
  score.epe = Buckets(m);
  score.px1 = m.px1;
  score.px3 = m.px3;
  score.px5 = m.px5;
  return score;
}

std::vector<std::string> PredictionScore::Lines() const {
  std::vector<std::string> lines;
  for (const auto& [name, v] : epe) lines.push_back(name + "  " + Num("%.3f", v));
  if (px1) lines.push_back("px1 / px3 / px5  " + Num("%.3f", *px1) + " / " + Num("%.3f", *px3) + " / " + Num("%.3f", *px5));
  return lines;
}

std::vector<std::string> DetectSplits(const fs::path& folder) {
  std::error_code ec;
  if (fs::is_directory(folder / "Frame_Anime", ec)) return {""};
  std::vector<std::string> out;
  for (const char* split : {"test", "train"})
    if (fs::is_directory(folder / split / "Frame_Anime", ec)) out.emplace_back(split);
  return out;
}

cv::Mat MakeThumbnail(const cv::Mat& rgb, int max_width, int max_height) {
  Require(max_width > 0 && max_height > 0, "MakeThumbnail: the size must be positive");
  if (rgb.empty()) return cv::Mat();
  const double scale = std::min({1.0, static_cast<double>(max_width) / rgb.cols,
                                 static_cast<double>(max_height) / rgb.rows});
  if (scale >= 1.0) return rgb.clone();
  const cv::Size size(std::max(1, static_cast<int>(std::lround(rgb.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(rgb.rows * scale))));
  cv::Mat out;
  cv::resize(rgb, out, size, 0, 0, cv::INTER_AREA);
  return out;
}

cv::Mat ReadThumbnail(const fs::path& path, int max_width, int max_height) {
  return MakeThumbnail(io::ReadImageRgb(path), max_width, max_height);
}

}  // namespace animerun::view
