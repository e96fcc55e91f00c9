#include "core/segments/flow_matcher.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/flow/flow_predictor.h"
#include "core/segments/segment_stats.h"
#include "core/segments/segmentation.h"
#include "core/util/error.h"

namespace animerun::segments {

void FlowMatcherOptions::Check() const {
  Require(min_pixels >= 0, "flow matcher: min_pixels must be >= 0");
  Require(min_fraction >= 0.0 && min_fraction <= 1.0, "flow matcher: min_fraction must be in [0, 1]");
  Require(min_share >= 0.0 && min_share <= 1.0, "flow matcher: min_share must be in [0, 1]");
  Require(colour_tolerance >= -1 && colour_tolerance <= 255, "flow matcher: colour_tolerance must be in -1..255");
  Require(segment_colour_tolerance >= -1 && segment_colour_tolerance <= 255,
          "flow matcher: segment_colour_tolerance must be in -1..255");
  Require(line_threshold >= 0 && line_threshold <= 256, "flow matcher: line_threshold must be in 0..256");
  Require(std::isfinite(fb_tolerance) && fb_tolerance >= 0, "flow matcher: fb_tolerance must be >= 0");
}

namespace {

cv::Mat AsRgb(const cv::Mat& image, const char* which) {
  if (image.empty() || image.type() == CV_8UC3) return image;
  if (image.type() == CV_8UC1) {
    cv::Mat rgb;
    cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
    return rgb;
  }
  throw Error(std::string("flow matcher: ") + which + " must be RGB CV_8UC3 or grey CV_8UC1");
}

}  // namespace

MatchResult MatchByFlow(const cv::Mat& labels0, const cv::Mat& labels1, const cv::Mat& flow, const cv::Mat& image0_in,
                        const cv::Mat& image1_in, const FlowMatcherOptions& options, const cv::Mat& backward) {
  options.Check();
  const int n0 = CountSegments(labels0, "frame t segments");
  const int n1 = CountSegments(labels1, "frame t+1 segments");
  if (labels0.size() != labels1.size())
    throw Error("flow matcher: the segment maps of frame t (" + std::to_string(labels0.cols) + "x" +
                std::to_string(labels0.rows) + ") and frame t+1 (" + std::to_string(labels1.cols) + "x" +
                std::to_string(labels1.rows) + ") differ in size");
  if (flow.type() != CV_32FC2 || flow.size() != labels0.size())
    throw Error("flow matcher: flow must be CV_32FC2 of frame t's size");
  if (!backward.empty() && (backward.type() != CV_32FC2 || backward.size() != labels1.size()))
    throw Error("flow matcher: backward flow must be CV_32FC2 of frame t+1's size");
  const cv::Mat image0 = AsRgb(image0_in, "image t"), image1 = AsRgb(image1_in, "image t+1");
  const bool colour = !image0.empty() && !image1.empty();
  if (colour && (image0.size() != labels0.size() || image1.size() != labels1.size()))
    throw Error("flow matcher: images and segment maps differ in size");
  const cv::Mat line0 = colour ? DetectLines(image0, options.line_threshold) : cv::Mat();
  const bool check_colour = colour && options.colour_tolerance >= 0;

  // Votes as (kind, source, target) keys; kind 0 = non-line pixel, 1 = line pixel.
  std::vector<uint64_t> keys;
  keys.reserve(labels0.total());
  std::vector<int64_t> area(static_cast<size_t>(n0), 0);
  const int w1 = labels1.cols, h1 = labels1.rows;
  for (int y = 0; y < labels0.rows; ++y) {
    const int* l = labels0.ptr<int>(y);
    const auto* f = flow.ptr<cv::Vec2f>(y);
    const auto* c0 = colour ? image0.ptr<cv::Vec3b>(y) : nullptr;
    const uchar* ln = colour ? line0.ptr<uchar>(y) : nullptr;
    for (int x = 0; x < labels0.cols; ++x) {
      ++area[static_cast<size_t>(l[x])];
      const double tx = std::floor(x + static_cast<double>(f[x][0]) + 0.5);
      const double ty = std::floor(y + static_cast<double>(f[x][1]) + 0.5);
      if (!(tx >= 0 && ty >= 0 && tx < w1 && ty < h1)) continue;  // also drops NaN
      const int qx = static_cast<int>(tx), qy = static_cast<int>(ty);
      if (check_colour) {
        const cv::Vec3b a = c0[x], b = image1.at<cv::Vec3b>(qy, qx);
        const int d = std::max({std::abs(a[0] - b[0]), std::abs(a[1] - b[1]), std::abs(a[2] - b[2])});
        if (d > options.colour_tolerance) continue;
      }
      if (!backward.empty()) {  // occluded when the way back does not lead home
        const cv::Vec2f b = backward.at<cv::Vec2f>(qy, qx);
        if (!(std::hypot(f[x][0] + b[0], f[x][1] + b[1]) <= options.fb_tolerance)) continue;
      }
      const uint64_t kind = ln && ln[x] ? 1 : 0;
      keys.push_back(kind << 62 | static_cast<uint64_t>(l[x]) << 31 | static_cast<uint64_t>(labels1.at<int>(qy, qx)));
    }
  }
  std::sort(keys.begin(), keys.end());

  // Per source segment and kind: total votes and the best target (runs of equal keys;
  // targets come in increasing order, so '>' keeps the smaller id on ties).
  struct Tally {
    int64_t total = 0, best_count = 0;
    int best = -1;
  };
  std::vector<Tally> tally[2] = {std::vector<Tally>(static_cast<size_t>(n0)), std::vector<Tally>(static_cast<size_t>(n0))};
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    const auto k = static_cast<size_t>(keys[i] >> 62);
    const auto src = static_cast<size_t>((keys[i] >> 31) & 0x7FFFFFFF);
    const int dst = static_cast<int>(keys[i] & 0x7FFFFFFF);
    Tally& t = tally[k][src];
    const auto c = static_cast<int64_t>(j - i);
    t.total += c;
    if (c > t.best_count) t.best_count = c, t.best = dst;
    i = j;
  }

  // Segment-level colour test: the dominant non-line colours (a proxy for "the same
  // region": a region's pixels share one material).
  std::vector<cv::Vec3b> dom0, dom1;
  if (colour && options.segment_colour_tolerance >= 0) {
    dom0 = DominantColours(labels0, n0, image0, line0);
    dom1 = DominantColours(labels1, n1, image1, DetectLines(image1, options.line_threshold));
  }
  MatchResult r;
  r.matches.assign(static_cast<size_t>(n0), -1);
  r.confidence.assign(static_cast<size_t>(n0), 0.0f);
  for (size_t i = 0; i < static_cast<size_t>(n0); ++i) {
    const Tally& t = tally[0][i].total > 0 ? tally[0][i] : tally[1][i];
    if (t.best < 0 || t.best >= n1) continue;
    const double share = static_cast<double>(t.best_count) / static_cast<double>(t.total);
    const double landed = area[i] ? static_cast<double>(t.total) / static_cast<double>(area[i]) : 0.0;
    if (t.total < options.min_pixels || landed < options.min_fraction || share < options.min_share) continue;
    if (!dom0.empty()) {
      const cv::Vec3b a = dom0[i], b = dom1[static_cast<size_t>(t.best)];
      if (std::max({std::abs(a[0] - b[0]), std::abs(a[1] - b[1]), std::abs(a[2] - b[2])}) >
          options.segment_colour_tolerance)
        continue;
    }
    r.matches[i] = t.best;
    r.confidence[i] = static_cast<float>(share);
  }
  return r;
}

FlowMatcher::FlowMatcher(const FlowMatcherOptions& options) : FlowMatcher(options, nullptr) {}

FlowMatcher::FlowMatcher(const FlowMatcherOptions& options, std::unique_ptr<flow::FlowRunner> runner)
    : options_(options), runner_(std::move(runner)) {
  options_.Check();
}

FlowMatcher::~FlowMatcher() = default;

MatchResult FlowMatcher::Match(const MatchInput& input) { return Match(input, cv::Mat()); }

MatchResult FlowMatcher::Match(const MatchInput& input, const cv::Mat& backward_in) {
  cv::Mat flow = input.flow, backward = backward_in;
  if (flow.empty()) {
    if (!runner_)
      throw Error("flow matcher: no flow given for the pair and no flow model configured (give a flow, or a flow "
                  "model and its weights)");
    if (input.image0.empty() || input.image1.empty())
      throw Error("flow matcher: the flow model needs both images");
    if (input.image0.size() != input.image1.size()) throw Error("flow matcher: the two images differ in size");
    const cv::Mat a = AsRgb(input.image0, "image t"), b = AsRgb(input.image1, "image t+1");
    flow = runner_->Predict(a, b);
    // Predicted flow carries no occlusion: the backward flow gives it (consistency check).
    if (options_.predict_backward && backward.empty()) backward = runner_->Predict(b, a);
  }
  return MatchByFlow(input.labels0, input.labels1, flow, input.image0, input.image1, options_, backward);
}

}  // namespace animerun::segments
