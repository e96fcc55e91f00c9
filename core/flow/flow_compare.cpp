#include "core/flow/flow_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace animerun::flow {

namespace {

// The inferno colour map (via OpenCV's table), as RGB, indexed 0..255.
const cv::Mat& InfernoLut() {
  static const cv::Mat lut = [] {
    cv::Mat ramp(1, 256, CV_8UC1);
    for (int i = 0; i < 256; ++i) ramp.at<uint8_t>(0, i) = static_cast<uint8_t>(i);
    cv::Mat bgr, rgb;
    cv::applyColorMap(ramp, bgr, cv::COLORMAP_INFERNO);
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
  }();
  return lut;
}

// The smallest 1/2/5 x 10^k that is >= v (v > 0).
double NiceCeil(double v) {
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

std::string TickText(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e6) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

void EpeScaleOptions::Check() const {
  Require(std::isfinite(max_epe), "max_epe must be finite");
  Require(percentile > 0 && percentile <= 100, "percentile must be in (0, 100]");
  Require(ticks >= 2 && ticks <= 50, "ticks must be in [2, 50]");
}

cv::Mat EndPointError(const cv::Mat& pred, const cv::Mat& gt) {
  if (pred.type() != CV_32FC2 || gt.type() != CV_32FC2) throw Error("EPE: both flows must be CV_32FC2");
  if (pred.size() != gt.size())
    throw Error("EPE: the prediction is " + std::to_string(pred.cols) + "x" + std::to_string(pred.rows) +
                " but the ground truth is " + std::to_string(gt.cols) + "x" + std::to_string(gt.rows));
  cv::Mat epe(gt.size(), CV_32FC1);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int y = 0; y < gt.rows; ++y) {
    const float* p = pred.ptr<float>(y);
    const float* g = gt.ptr<float>(y);
    float* e = epe.ptr<float>(y);
    for (int x = 0; x < gt.cols; ++x) {
      // Same float32 arithmetic as FlowMetricsAccumulator.
      const float du = p[2 * x] - g[2 * x], dv = p[2 * x + 1] - g[2 * x + 1];
      const float du2 = du * du, dv2 = dv * dv;
      const float v = std::sqrt(du2 + dv2);
      e[x] = std::isfinite(v) ? v : nan;
    }
  }
  return epe;
}

double MaxFlowMagnitude(const cv::Mat& flow) {
  if (flow.empty()) return 0.0;
  if (flow.type() != CV_32FC2) throw Error("max |flow|: the flow must be CV_32FC2");
  double best = 0.0;
  for (int y = 0; y < flow.rows; ++y) {
    const float* p = flow.ptr<float>(y);
    for (int x = 0; x < flow.cols; ++x) {
      const double m = std::hypot(static_cast<double>(p[2 * x]), static_cast<double>(p[2 * x + 1]));
      if (std::isfinite(m)) best = std::max(best, m);
    }
  }
  return best;
}

EpeScale ChooseEpeScale(const std::vector<cv::Mat>& epes, const EpeScaleOptions& options) {
  options.Check();
  EpeScale s;
  if (options.max_epe > 0) {
    s.max = options.max_epe;
  } else {
    std::vector<float> values;
    for (const cv::Mat& m : epes) {
      if (m.empty()) continue;
      if (m.type() != CV_32FC1) throw Error("EPE scale: EPE maps must be CV_32FC1");
      for (int y = 0; y < m.rows; ++y) {
        const float* r = m.ptr<float>(y);
        for (int x = 0; x < m.cols; ++x)
          if (std::isfinite(r[x])) values.push_back(r[x]);
      }
    }
    double top = 0;
    if (!values.empty()) {
      const size_t k = std::min(values.size() - 1,
                                static_cast<size_t>(std::ceil(options.percentile / 100.0 * values.size())) - 1);
      std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
      top = values[k];
    }
    // At least 1 px: below that the map would exaggerate negligible errors.
    s.max = NiceCeil(std::max(1.0, top));
  }
  for (int i = 0; i < options.ticks; ++i) s.ticks.push_back(s.max * i / (options.ticks - 1));
  return s;
}

cv::Mat EpeToColor(const cv::Mat& epe, const EpeScale& scale) {
  if (epe.empty()) return cv::Mat();
  if (epe.type() != CV_32FC1) throw Error("EPE heatmap: the EPE map must be CV_32FC1");
  Require(scale.max > 0 && std::isfinite(scale.max), "EPE heatmap: the scale maximum must be positive");
  const cv::Vec3b* lut = InfernoLut().ptr<cv::Vec3b>(0);
  cv::Mat out(epe.size(), CV_8UC3);
  const float k = static_cast<float>(255.0 / scale.max);
  for (int y = 0; y < epe.rows; ++y) {
    const float* e = epe.ptr<float>(y);
    cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < epe.cols; ++x) {
      if (!std::isfinite(e[x])) {
        o[x] = cv::Vec3b(128, 128, 128);
        continue;
      }
      const float v = std::min(255.f, std::max(0.f, e[x] * k));
      o[x] = lut[static_cast<int>(v + 0.5f)];
    }
  }
  return out;
}

cv::Mat EpeColorBar(int length, int thickness, bool vertical) {
  Require(length > 0 && thickness > 0, "EPE colour bar: the size must be positive");
  const cv::Vec3b* lut = InfernoLut().ptr<cv::Vec3b>(0);
  cv::Mat bar(vertical ? length : thickness, vertical ? thickness : length, CV_8UC3);
  for (int i = 0; i < length; ++i) {
    const int idx = length == 1 ? 255 : static_cast<int>(std::lround(255.0 * i / (length - 1)));
    const cv::Vec3b c = lut[idx];
    if (vertical) bar.row(length - 1 - i).setTo(cv::Scalar(c[0], c[1], c[2]));
    else bar.col(i).setTo(cv::Scalar(c[0], c[1], c[2]));
  }
  return bar;
}

cv::Mat EpeHeatmapWithLegend(const cv::Mat& epe, const EpeScale& scale) {
  const cv::Mat heat = EpeToColor(epe, scale);
  if (heat.empty()) return heat;
  const int h = heat.rows;
  const double font = std::clamp(h / 400.0, 0.3, 1.0);
  const int text_h = static_cast<int>(std::ceil(22 * font));
  const int margin = std::max(2, text_h / 2 + 1);  // room for the end labels
  const int bar_w = std::max(6, h / 25);
  const int legend_w = bar_w + 12 + static_cast<int>(std::ceil(70 * font));
  cv::Mat out(h, heat.cols + legend_w, CV_8UC3, cv::Scalar(255, 255, 255));
  heat.copyTo(out(cv::Rect(0, 0, heat.cols, h)));
  const int bar_len = std::max(1, h - 2 * margin);
  const int bx = heat.cols + 6;
  EpeColorBar(bar_len, bar_w, true).copyTo(out(cv::Rect(bx, margin, bar_w, bar_len)));
  for (double t : scale.ticks) {
    const int y = margin + static_cast<int>(std::lround((1.0 - t / scale.max) * (bar_len - 1)));
    cv::line(out, {bx + bar_w, y}, {bx + bar_w + 3, y}, cv::Scalar(0, 0, 0));
    cv::putText(out, TickText(t) + (t == scale.max ? "+" : ""), {bx + bar_w + 5, y + text_h / 3},
                cv::FONT_HERSHEY_SIMPLEX, font * 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  return out;
}

FlowMetrics ScorePairFlow(const cv::Mat& pred, const cv::Mat& gt, const cv::Mat& unmatched_forward,
                          const cv::Mat& line_area, const std::string& pred_name, const std::string& gt_name) {
  // One pair through the evaluator's own accumulator: identical sums and means.
  FlowMetricsAccumulator acc;
  acc.Add("pair", pred, gt, unmatched_forward, line_area, pred_name, gt_name);
  return acc.Result().overall;
}

FlowMetrics ScorePairFlow(const data::PairData& pair, const cv::Mat& pred, const std::string& pred_name) {
  if (pair.flow_forward.empty()) throw Error(pred_name + ": the pair has no ground-truth forward flow to compare with");
  return ScorePairFlow(pred, pair.flow_forward, pair.unmatched_forward, pair.line_area, pred_name, "ground truth");
}

std::vector<MetricRow> MetricRows(const FlowMetrics& metrics) {
  std::vector<MetricRow> rows;
  for (int b = 0; b < kNumFlowBuckets; ++b) rows.push_back({kFlowBucketNames[b], metrics.epe[b]});
  rows.push_back({"px1", metrics.px1});
  rows.push_back({"px3", metrics.px3});
  rows.push_back({"px5", metrics.px5});
  return rows;
}

std::string FormatMetric(const std::optional<double>& value) {
  if (!value) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", *value);
  return buf;
}

}  // namespace animerun::flow
