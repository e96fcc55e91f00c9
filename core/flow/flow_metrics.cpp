#include "core/flow/flow_metrics.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/util/error.h"
#include "core/util/mat_text.h"
#include "core/util/json_text.h"

namespace animerun::flow {

const std::array<const char*, kNumFlowBuckets> kFlowBucketNames = {
    "epe", "epe_occ", "epe_nonocc", "epe_line", "epe_flat", "epe_s0_10", "epe_s10_50", "epe_s50plus"};

namespace {

void CheckMask(const cv::Mat& mask, const cv::Mat& gt, const std::string& what, const std::string& gt_name) {
  if (mask.empty()) return;
  if (mask.type() != CV_8UC1) throw Error(gt_name + ": " + what + " mask must be CV_8UC1");
  if (mask.size() != gt.size())
    throw Error(gt_name + ": " + what + " mask is " + MatSizeText(mask) + " but the flow is " + MatSizeText(gt));
}

// Counts NaN/inf pixels (either component) of a CV_32FC2 flow.
int64_t CountNonFinite(const cv::Mat& flow) {
  int64_t n = 0;
  for (int y = 0; y < flow.rows; ++y) {
    const float* p = flow.ptr<float>(y);
    for (int x = 0; x < flow.cols; ++x)
      if (!std::isfinite(p[2 * x]) || !std::isfinite(p[2 * x + 1])) ++n;
  }
  return n;
}

}  // namespace

void FlowMetricsAccumulator::Add(const std::string& scene, const cv::Mat& pred, const cv::Mat& gt,
                                 const cv::Mat& unmatched_forward, const cv::Mat& line_area,
                                 const std::string& pred_name, const std::string& gt_name) {
  if (gt.empty() || gt.type() != CV_32FC2) throw Error(gt_name + ": ground-truth flow must be a non-empty CV_32FC2");
  if (pred.empty() || pred.type() != CV_32FC2) throw Error(pred_name + ": predicted flow must be a non-empty CV_32FC2");
  if (pred.size() != gt.size())
    throw Error(pred_name + ": predicted flow is " + MatSizeText(pred) + " but the ground truth is " + MatSizeText(gt));
  CheckMask(unmatched_forward, gt, "UnmatchedForward", gt_name);
  CheckMask(line_area, gt, "LineArea", gt_name);
  if (int64_t n = CountNonFinite(pred))
    throw Error(pred_name + ": " + std::to_string(n) + " pixel(s) of the predicted flow are NaN or infinite");
  if (int64_t n = CountNonFinite(gt))
    throw Error(gt_name + ": " + std::to_string(n) + " pixel(s) of the ground-truth flow are NaN or infinite");

  Sums s;
  s.pairs = 1;
  s.missing_unmatched = unmatched_forward.empty();
  s.missing_line = line_area.empty();
  auto add = [&s](FlowBucket b, float e) {
    s.sum[static_cast<int>(b)] += e;
    ++s.count[static_cast<int>(b)];
  };
  for (int y = 0; y < gt.rows; ++y) {
    const float* p = pred.ptr<float>(y);
    const float* g = gt.ptr<float>(y);
    const uint8_t* occ = unmatched_forward.empty() ? nullptr : unmatched_forward.ptr<uint8_t>(y);
    const uint8_t* line = line_area.empty() ? nullptr : line_area.ptr<uint8_t>(y);
    for (int x = 0; x < gt.cols; ++x) {
      // float32 as torch computes them: sum over the 2 channels of the squares, then sqrt.
      const float du = p[2 * x] - g[2 * x], dv = p[2 * x + 1] - g[2 * x + 1];
      const float du2 = du * du, dv2 = dv * dv;
      const float e = std::sqrt(du2 + dv2);
      const float gu2 = g[2 * x] * g[2 * x], gv2 = g[2 * x + 1] * g[2 * x + 1];
      const float mag = std::sqrt(gu2 + gv2);
      add(FlowBucket::kAll, e);
      if (e < 1.0f) ++s.below1;
      if (e < 3.0f) ++s.below3;
      if (e < 5.0f) ++s.below5;
      if (occ) {
        if (occ[x] == 0) add(FlowBucket::kOcc, e);
        else if (occ[x] == 1) add(FlowBucket::kNonOcc, e);
      }
      if (line) add(line[x] == 0 ? FlowBucket::kLine : FlowBucket::kFlat, e);
      if (mag <= 10.0f) add(FlowBucket::kS0_10, e);
      else if (mag <= 50.0f) add(FlowBucket::kS10_50, e);
      else add(FlowBucket::kS50Plus, e);
    }
  }
  total_.Merge(s);
  scenes_[scene].Merge(s);
}

void FlowMetricsAccumulator::Sums::Merge(const Sums& o) {
  for (int i = 0; i < kNumFlowBuckets; ++i) {
    sum[i] += o.sum[i];
    count[i] += o.count[i];
  }
  below1 += o.below1;
  below3 += o.below3;
  below5 += o.below5;
  pairs += o.pairs;
  missing_unmatched = missing_unmatched || o.missing_unmatched;
  missing_line = missing_line || o.missing_line;
}

FlowMetrics FlowMetricsAccumulator::Sums::ToMetrics() const {
  FlowMetrics m;
  m.pairs = pairs;
  m.pixels = count[static_cast<int>(FlowBucket::kAll)];
  for (int i = 0; i < kNumFlowBuckets; ++i) {
    const auto b = static_cast<FlowBucket>(i);
    const bool mask_missing = ((b == FlowBucket::kOcc || b == FlowBucket::kNonOcc) && missing_unmatched) ||
                              ((b == FlowBucket::kLine || b == FlowBucket::kFlat) && missing_line);
    m.bucket_pixels[i] = mask_missing ? 0 : count[i];
    if (!mask_missing && count[i] > 0) m.epe[i] = sum[i] / static_cast<double>(count[i]);
  }
  if (m.pixels > 0) {
    const double n = static_cast<double>(m.pixels);
    m.px1 = below1 / n;
    m.px3 = below3 / n;
    m.px5 = below5 / n;
  }
  return m;
}

FlowEvalResult FlowMetricsAccumulator::Result() const {
  FlowEvalResult r;
  r.overall = total_.ToMetrics();
  for (const auto& [name, sums] : scenes_) r.scenes[name] = sums.ToMetrics();
  return r;
}

nlohmann::json FlowMetrics::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  nlohmann::json counts = nlohmann::json::object();
  for (int i = 0; i < kNumFlowBuckets; ++i) {
    j[kFlowBucketNames[i]] = OptionalJson(epe[i]);
    counts[kFlowBucketNames[i]] = bucket_pixels[i];
  }
  j["px1"] = OptionalJson(px1);
  j["px3"] = OptionalJson(px3);
  j["px5"] = OptionalJson(px5);
  j["pairs"] = pairs;
  j["pixels"] = pixels;
  j["bucket_pixels"] = counts;
  return j;
}

nlohmann::json FlowEvalResult::ToJson() const {
  nlohmann::json j = overall.ToJson();
  nlohmann::json s = nlohmann::json::object();
  for (const auto& [name, m] : scenes) s[name] = m.ToJson();
  j["scenes"] = s;
  return j;
}

std::string FormatFlowTable(const FlowEvalResult& result) {
  std::ostringstream out;
  char buf[64];
  auto cell = [&](const std::optional<double>& v, int width) {
    if (v) std::snprintf(buf, sizeof buf, "%*.4f", width, *v);
    else std::snprintf(buf, sizeof buf, "%*s", width, "-");
    out << buf;
  };
  const char* headers[] = {"EPE", "Occ", "Non-Occ", "Line", "Flat", "s<10", "s10-50", "s>50"};
  std::snprintf(buf, sizeof buf, "%-20s %6s", "scene", "pairs");
  out << buf;
  for (const char* h : headers) {
    std::snprintf(buf, sizeof buf, " %8s", h);
    out << buf;
  }
  out << "      1px      3px      5px\n";
  auto row = [&](const std::string& name, const FlowMetrics& m) {
    std::snprintf(buf, sizeof buf, "%-20.20s %6lld", name.c_str(), static_cast<long long>(m.pairs));
    out << buf;
    for (int i = 0; i < kNumFlowBuckets; ++i) {
      out << ' ';
      cell(m.epe[i], 8);
    }
    out << ' ';
    cell(m.px1, 8);
    out << ' ';
    cell(m.px3, 8);
    out << ' ';
    cell(m.px5, 8);
    out << '\n';
  };
  for (const auto& [name, m] : result.scenes) row(name, m);
  row("ALL (pooled)", result.overall);
  return out.str();
}

}  // namespace animerun::flow
