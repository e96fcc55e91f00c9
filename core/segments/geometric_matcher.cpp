#include "core/segments/geometric_matcher.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/segments/segment_stats.h"
#include "core/segments/segmentation.h"
#include "core/util/error.h"

namespace animerun::segments {

void GeometricMatcherOptions::Check() const {
  Require(assignment == "hungarian" || assignment == "greedy",
          "geometric matcher: assignment must be 'hungarian' or 'greedy' (got '" + assignment + "')");
  auto nonneg = [](double v) { return std::isfinite(v) && v >= 0; };
  Require(nonneg(position_weight) && nonneg(area_weight) && nonneg(shape_weight) && nonneg(colour_weight),
          "geometric matcher: weights must be finite and >= 0");
  Require(nonneg(colour_area_weight) && nonneg(colour_shape_weight), "geometric matcher: weights must be finite and >= 0");
  Require(nonneg(neighbour_weight) && neighbour_weight <= 10 && nonneg(colour_neighbour_weight) &&
              colour_neighbour_weight <= 10,
          "geometric matcher: neighbour weights must be in [0, 10]");
  Require(std::isfinite(position_scale) && position_scale > 0 && std::isfinite(gate_scale) && gate_scale > 0,
          "geometric matcher: position_scale and gate_scale must be > 0");
  Require(std::isfinite(colour_scale) && colour_scale > 0, "geometric matcher: colour_scale must be > 0");
  Require(std::isfinite(max_cost) && max_cost > 0, "geometric matcher: max_cost must be > 0");
  Require(line_threshold >= 0 && line_threshold <= 256, "geometric matcher: line_threshold must be in 0..256");
}

std::vector<int> SolveAssignment(const cv::Mat& cost_in) {
  if (cost_in.type() != CV_64FC1) throw Error("assignment: cost matrix must be CV_64FC1");
  if (cost_in.empty()) return std::vector<int>(static_cast<size_t>(cost_in.rows), -1);
  const bool transpose = cost_in.rows > cost_in.cols;
  const cv::Mat a = transpose ? cv::Mat(cost_in.t()) : cost_in;
  const int n = a.rows, m = a.cols;  // n <= m
  // Shortest augmenting paths with potentials (the classic O(n^2 m) Hungarian method).
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(static_cast<size_t>(n) + 1, 0.0), v(static_cast<size_t>(m) + 1, 0.0);
  std::vector<int> p(static_cast<size_t>(m) + 1, 0), way(static_cast<size_t>(m) + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(static_cast<size_t>(m) + 1, inf);
    std::vector<char> used(static_cast<size_t>(m) + 1, 0);
    do {
      used[static_cast<size_t>(j0)] = 1;
      const int i0 = p[static_cast<size_t>(j0)];
      const double* row = a.ptr<double>(i0 - 1);
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        const auto uj = static_cast<size_t>(j);
        if (used[uj]) continue;
        const double cur = row[j - 1] - u[static_cast<size_t>(i0)] - v[uj];
        if (cur < minv[uj]) minv[uj] = cur, way[uj] = j0;
        if (minv[uj] < delta) delta = minv[uj], j1 = j;
      }
      for (int j = 0; j <= m; ++j) {
        const auto uj = static_cast<size_t>(j);
        if (used[uj]) {
          u[static_cast<size_t>(p[uj])] += delta;
          v[uj] -= delta;
        } else {
          minv[uj] -= delta;
        }
      }
      j0 = j1;
    } while (p[static_cast<size_t>(j0)] != 0);
    do {
      const int j1 = way[static_cast<size_t>(j0)];
      p[static_cast<size_t>(j0)] = p[static_cast<size_t>(j1)];
      j0 = j1;
    } while (j0);
  }
  std::vector<int> result(static_cast<size_t>(cost_in.rows), -1);
  for (int j = 1; j <= m; ++j) {
    const int i = p[static_cast<size_t>(j)];
    if (i == 0) continue;
    if (transpose) result[static_cast<size_t>(j - 1)] = i - 1;
    else result[static_cast<size_t>(i - 1)] = j - 1;
  }
  return result;
}

std::vector<int> GreedyAssignment(const cv::Mat& cost, double max_cost) {
  if (cost.type() != CV_64FC1) throw Error("assignment: cost matrix must be CV_64FC1");
  std::vector<std::pair<double, int>> order;
  order.reserve(cost.total());
  for (int i = 0; i < cost.rows; ++i) {
    const double* c = cost.ptr<double>(i);
    for (int j = 0; j < cost.cols; ++j)
      if (c[j] < max_cost) order.emplace_back(c[j], i * cost.cols + j);
  }
  std::sort(order.begin(), order.end());  // by cost, then by (row, column)
  std::vector<int> result(static_cast<size_t>(cost.rows), -1);
  std::vector<char> taken(static_cast<size_t>(cost.cols), 0);
  for (const auto& [c, k] : order) {
    const int i = k / cost.cols, j = k % cost.cols;
    if (result[static_cast<size_t>(i)] >= 0 || taken[static_cast<size_t>(j)]) continue;
    result[static_cast<size_t>(i)] = j;
    taken[static_cast<size_t>(j)] = 1;
  }
  return result;
}

namespace {

struct Features {
  int n = 0;
  std::vector<SegmentStats> stats;
  std::vector<HuMoments> hu;
  std::vector<cv::Vec3d> colour;  // empty when the frame is not coloured
  std::vector<std::vector<int>> adj;
};

bool IsColoured(const cv::Mat& image) {
  if (image.empty() || image.type() != CV_8UC3) return false;
  for (int y = 0; y < image.rows; ++y) {
    const auto* p = image.ptr<cv::Vec3b>(y);
    for (int x = 0; x < image.cols; ++x)
      if (p[x][0] != p[x][1] || p[x][1] != p[x][2]) return true;
  }
  return false;
}

Features Describe(const cv::Mat& labels, const cv::Mat& image, bool with_colour, int line_threshold, const char* name) {
  Features f;
  f.n = CountSegments(labels, name);
  f.stats = ComputeSegmentStats(labels);
  f.hu = ComputeHuMoments(labels, f.n);
  f.adj = SegmentAdjacency(labels, f.n);
  if (with_colour) {
    if (image.size() != labels.size()) throw Error(std::string("geometric matcher: ") + name + " and its image differ in size");
    f.colour = MeanColours(labels, f.n, image, DetectLines(image, line_threshold));
  }
  return f;
}

// Assignment by the configured method; pairs at or above max_cost become -1.
std::vector<int> Assign(const cv::Mat& cost, const GeometricMatcherOptions& o) {
  if (o.assignment == "greedy") return GreedyAssignment(cost, o.max_cost);
  cv::Mat clipped = cv::min(cost, o.max_cost);  // a clipped pair is as good as two dustbins
  std::vector<int> m = SolveAssignment(clipped);
  for (size_t i = 0; i < m.size(); ++i)
    if (m[i] >= 0 && cost.at<double>(static_cast<int>(i), m[i]) >= o.max_cost) m[i] = -1;
  return m;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const size_t k = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

GeometricMatcher::GeometricMatcher(const GeometricMatcherOptions& options) : options_(options) { options_.Check(); }

MatchResult GeometricMatcher::Match(const MatchInput& in) {
  const GeometricMatcherOptions& o = options_;
  const bool colour = IsColoured(in.image0) && IsColoured(in.image1) && o.colour_weight > 0;
  // With colour the paint carries the identity; area and shape (noisy on small segments)
  // and the neighbour bonus then count less.
  const double area_weight = colour ? o.colour_area_weight : o.area_weight;
  const double shape_weight = colour ? o.colour_shape_weight : o.shape_weight;
  const double neighbour_weight = colour ? o.colour_neighbour_weight : o.neighbour_weight;
  const Features a = Describe(in.labels0, in.image0, colour, o.line_threshold, "frame t segments");
  const Features b = Describe(in.labels1, in.image1, colour, o.line_threshold, "frame t+1 segments");
  if (in.labels0.size() != in.labels1.size())
    throw Error("geometric matcher: the segment maps of frame t (" + std::to_string(in.labels0.cols) + "x" +
                std::to_string(in.labels0.rows) + ") and frame t+1 (" + std::to_string(in.labels1.cols) + "x" +
                std::to_string(in.labels1.rows) + ") differ in size");
  const double diag = std::hypot(in.labels0.cols, in.labels0.rows);
  const double pos_unit = o.position_scale * diag, gate = o.gate_scale * diag;

  // Appearance cost (area, shape, colour) and centroid displacement of every pair.
  cv::Mat appearance(a.n, b.n, CV_64FC1), dist0(a.n, b.n, CV_64FC1);
  for (int i = 0; i < a.n; ++i) {
    const auto& si = a.stats[static_cast<size_t>(i)];
    for (int j = 0; j < b.n; ++j) {
      const auto& sj = b.stats[static_cast<size_t>(j)];
      double c = 0;
      if (si.area == 0 || sj.area == 0) {
        c = 1e9;  // an id without pixels never matches
      } else {
        c += area_weight * std::fabs(std::log2(static_cast<double>(si.area) / static_cast<double>(sj.area)));
        double s = 0;
        for (size_t k = 0; k < 4; ++k) s += std::fabs(a.hu[static_cast<size_t>(i)][k] - b.hu[static_cast<size_t>(j)][k]);
        c += shape_weight * s;
        if (colour) c += o.colour_weight * cv::norm(a.colour[static_cast<size_t>(i)] - b.colour[static_cast<size_t>(j)]) / o.colour_scale;
      }
      appearance.at<double>(i, j) = c;
      dist0.at<double>(i, j) = cv::norm(sj.centroid - si.centroid);
    }
  }

  // Expected displacement: the median centroid displacement of the first pass's confident
  // pairs (one global camera-like motion). Per-segment estimates from neighbouring anchors
  // were tried and measured worse on generated pairs: neighbours often move differently.
  cv::Point2d shift(0, 0);
  if (o.compensate_motion && a.n > 0 && b.n > 0) {
    // First pass: the full cost with no motion (the position term at its plain distance),
    // gated; its confident pairs are the anchors.
    cv::Mat gated = appearance + (o.position_weight / pos_unit) * dist0;
    gated.setTo(1e9, dist0 > gate);
    const std::vector<int> first = Assign(gated, o);
    std::vector<double> dx, dy;
    for (int i = 0; i < a.n; ++i) {
      const int j = first[static_cast<size_t>(i)];
      if (j < 0 || gated.at<double>(i, j) >= o.max_cost / 2) continue;
      const cv::Point2d d = b.stats[static_cast<size_t>(j)].centroid - a.stats[static_cast<size_t>(i)].centroid;
      dx.push_back(d.x), dy.push_back(d.y);
    }
    shift = cv::Point2d(Median(dx), Median(dy));
  }

  cv::Mat cost(a.n, b.n, CV_64FC1);
  for (int i = 0; i < a.n; ++i) {
    const cv::Point2d expect = a.stats[static_cast<size_t>(i)].centroid + shift;
    for (int j = 0; j < b.n; ++j)
      cost.at<double>(i, j) = appearance.at<double>(i, j) +
                              o.position_weight * cv::norm(b.stats[static_cast<size_t>(j)].centroid - expect) / pos_unit;
  }
  std::vector<int> match = Assign(cost, o);

  if (neighbour_weight > 0 && a.n > 0 && b.n > 0) {
    // support(i, j): share of i's neighbours whose match is a neighbour of j.
    cv::Mat support = cv::Mat::zeros(a.n, b.n, CV_64FC1);
    for (int i = 0; i < a.n; ++i) {
      const auto& ni = a.adj[static_cast<size_t>(i)];
      if (ni.empty()) continue;
      double* s = support.ptr<double>(i);
      for (int k : ni) {
        const int mk = match[static_cast<size_t>(k)];
        if (mk < 0) continue;
        for (int j : b.adj[static_cast<size_t>(mk)]) s[j] += 1.0;
      }
      for (int j = 0; j < b.n; ++j) s[j] /= static_cast<double>(ni.size());
    }
    cost -= neighbour_weight * support;
    cost = cv::max(cost, 0.0);
    match = Assign(cost, o);
  }

  MatchResult r;
  r.matches = match;
  r.confidence.assign(static_cast<size_t>(a.n), 0.0f);
  for (int i = 0; i < a.n; ++i) {
    const int j = match[static_cast<size_t>(i)];
    if (j >= 0)
      r.confidence[static_cast<size_t>(i)] =
          static_cast<float>(std::clamp(1.0 - cost.at<double>(i, j) / o.max_cost, 0.0, 1.0));
  }
  r.scores = cv::Mat(a.n + 1, b.n + 1, CV_32FC1, cv::Scalar(static_cast<float>(o.max_cost)));
  cost.convertTo(r.scores(cv::Rect(0, 0, b.n, a.n)), CV_32F);
  return r;
}

}  // namespace animerun::segments
