#include "core/segments/segment_stats.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace animerun::segments {

int CountSegments(const cv::Mat& labels, const std::string& name) {
  if (labels.empty()) throw Error(name + ": empty segment map");
  if (labels.type() != CV_32SC1) throw Error(name + ": segment map must be int32 (CV_32SC1)");
  double lo = 0, hi = 0;
  cv::minMaxLoc(labels, &lo, &hi);
  if (lo < 0) throw Error(name + ": negative segment id " + std::to_string(static_cast<int>(lo)));
  return static_cast<int>(hi) + 1;
}

std::vector<SegmentStats> ComputeSegmentStats(const cv::Mat& labels) {
  const int n = CountSegments(labels);
  std::vector<SegmentStats> st(static_cast<size_t>(n));
  std::vector<int> x0(st.size(), labels.cols), y0(st.size(), labels.rows), x1(st.size(), -1), y1(st.size(), -1);
  std::vector<double> sx(st.size(), 0.0), sy(st.size(), 0.0);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x) {
      const auto s = static_cast<size_t>(l[x]);
      ++st[s].area;
      sx[s] += x;
      sy[s] += y;
      x0[s] = std::min(x0[s], x), x1[s] = std::max(x1[s], x);
      y0[s] = std::min(y0[s], y), y1[s] = std::max(y1[s], y);
    }
  }
  for (size_t s = 0; s < st.size(); ++s) {
    if (st[s].area == 0) continue;
    st[s].bbox = cv::Rect(x0[s], y0[s], x1[s] - x0[s] + 1, y1[s] - y0[s] + 1);
    st[s].centroid = {sx[s] / static_cast<double>(st[s].area), sy[s] / static_cast<double>(st[s].area)};
  }
  return st;
}

std::vector<HuMoments> ComputeHuMoments(const cv::Mat& labels, int num_segments) {
  const auto stats = ComputeSegmentStats(labels);
  const size_t n = static_cast<size_t>(std::max(num_segments, 0));
  // Central moments accumulated about each centroid directly (a second pass), which
  // avoids the cancellation of the raw-moment formulas on large segments.
  struct Mu {
    double m20 = 0, m11 = 0, m02 = 0, m30 = 0, m21 = 0, m12 = 0, m03 = 0;
  };
  std::vector<Mu> mu(n);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x) {
      const auto s = static_cast<size_t>(l[x]);
      if (s >= n) continue;
      const double dx = x - stats[s].centroid.x, dy = y - stats[s].centroid.y;
      Mu& m = mu[s];
      m.m20 += dx * dx, m.m11 += dx * dy, m.m02 += dy * dy;
      m.m30 += dx * dx * dx, m.m21 += dx * dx * dy, m.m12 += dx * dy * dy, m.m03 += dy * dy * dy;
    }
  }
  std::vector<HuMoments> hu(n, HuMoments{});
  for (size_t s = 0; s < n && s < stats.size(); ++s) {
    const double a = static_cast<double>(stats[s].area);
    if (a < 2) continue;
    const double k2 = a * a, k3 = std::pow(a, 2.5);  // eta_pq = mu_pq / m00^(1 + (p+q)/2)
    const double n20 = mu[s].m20 / k2, n11 = mu[s].m11 / k2, n02 = mu[s].m02 / k2;
    const double n30 = mu[s].m30 / k3, n21 = mu[s].m21 / k3, n12 = mu[s].m12 / k3, n03 = mu[s].m03 / k3;
    const double p = n30 + n12, q = n21 + n03, r = n30 - 3 * n12, t = 3 * n21 - n03;
    double h[7];
    h[0] = n20 + n02;
    h[1] = (n20 - n02) * (n20 - n02) + 4 * n11 * n11;
    h[2] = r * r + t * t;
    h[3] = p * p + q * q;
    h[4] = r * p * (p * p - 3 * q * q) + t * q * (3 * p * p - q * q);
    h[5] = (n20 - n02) * (p * p - q * q) + 4 * n11 * p * q;
    h[6] = t * p * (p * p - 3 * q * q) - r * q * (3 * p * p - q * q);
    for (int k = 0; k < 7; ++k) hu[s][static_cast<size_t>(k)] = std::copysign(std::log10(1.0 + std::fabs(h[k]) * 1e4), h[k]);
  }
  return hu;
}

std::vector<std::vector<int>> SegmentAdjacency(const cv::Mat& labels, int num_segments) {
  const size_t n = static_cast<size_t>(std::max(num_segments, 0));
  std::vector<std::vector<int>> adj(n);
  auto link = [&](int a, int b) {
    if (a == b || static_cast<size_t>(a) >= n || static_cast<size_t>(b) >= n) return;
    auto& la = adj[static_cast<size_t>(a)];
    if (la.empty() || la.back() != b) la.push_back(b);  // cheap de-duplication of runs
    auto& lb = adj[static_cast<size_t>(b)];
    if (lb.empty() || lb.back() != a) lb.push_back(a);
  };
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const int* d = y + 1 < labels.rows ? labels.ptr<int>(y + 1) : nullptr;
    for (int x = 0; x < labels.cols; ++x) {
      if (x + 1 < labels.cols) link(l[x], l[x + 1]);
      if (d) link(l[x], d[x]);
    }
  }
  for (auto& v : adj) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  return adj;
}

namespace {

void CheckImage(const cv::Mat& labels, const cv::Mat& image, const cv::Mat& exclude) {
  if (image.type() != CV_8UC3 || image.size() != labels.size())
    throw Error("segment colours: the image must be RGB CV_8UC3 of the label map's size");
  if (!exclude.empty() && (exclude.type() != CV_8UC1 || exclude.size() != labels.size()))
    throw Error("segment colours: the exclusion mask must be CV_8UC1 of the label map's size");
}

// Per segment: whether it has a pixel outside exclude (then only those count).
std::vector<char> HasKeptPixel(const cv::Mat& labels, size_t n, const cv::Mat& exclude) {
  std::vector<char> keep(n, 0);
  if (exclude.empty()) return keep;
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const uchar* e = exclude.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x)
      if (!e[x] && static_cast<size_t>(l[x]) < n) keep[static_cast<size_t>(l[x])] = 1;
  }
  return keep;
}

}  // namespace

std::vector<cv::Vec3b> DominantColours(const cv::Mat& labels, int num_segments, const cv::Mat& image,
                                       const cv::Mat& exclude) {
  CheckImage(labels, image, exclude);
  const size_t n = static_cast<size_t>(std::max(num_segments, 0));
  const std::vector<char> keep = HasKeptPixel(labels, n, exclude);
  // (segment << 24 | colour) keys, sorted: runs give each segment's colour histogram
  // without a hash map per segment.
  std::vector<uint64_t> keys;
  keys.reserve(labels.total());
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const auto* c = image.ptr<cv::Vec3b>(y);
    const uchar* e = exclude.empty() ? nullptr : exclude.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x) {
      const auto s = static_cast<size_t>(l[x]);
      if (s >= n || (e && e[x] && keep[s])) continue;
      keys.push_back(static_cast<uint64_t>(s) << 24 | static_cast<uint64_t>(c[x][0]) << 16 |
                     static_cast<uint64_t>(c[x][1]) << 8 | c[x][2]);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<cv::Vec3b> out(n, cv::Vec3b(0, 0, 0));
  std::vector<size_t> best(n, 0);
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    const size_t s = static_cast<size_t>(keys[i] >> 24);
    if (j - i > best[s]) {  // strictly more: the first (smallest) colour keeps ties
      best[s] = j - i;
      const auto rgb = static_cast<uint32_t>(keys[i] & 0xFFFFFF);
      out[s] = cv::Vec3b(static_cast<uchar>(rgb >> 16), static_cast<uchar>(rgb >> 8), static_cast<uchar>(rgb));
    }
    i = j;
  }
  return out;
}

std::vector<cv::Vec3d> MeanColours(const cv::Mat& labels, int num_segments, const cv::Mat& image,
                                   const cv::Mat& exclude) {
  CheckImage(labels, image, exclude);
  const size_t n = static_cast<size_t>(std::max(num_segments, 0));
  const std::vector<char> keep = HasKeptPixel(labels, n, exclude);
  std::vector<cv::Vec3d> sum(n, cv::Vec3d(0, 0, 0));
  std::vector<int64_t> cnt(n, 0);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const auto* c = image.ptr<cv::Vec3b>(y);
    const uchar* e = exclude.empty() ? nullptr : exclude.ptr<uchar>(y);
    for (int x = 0; x < labels.cols; ++x) {
      const auto s = static_cast<size_t>(l[x]);
      if (s >= n || (e && e[x] && keep[s])) continue;
      sum[s] += cv::Vec3d(c[x][0], c[x][1], c[x][2]);
      ++cnt[s];
    }
  }
  for (size_t s = 0; s < n; ++s)
    if (cnt[s]) sum[s] /= static_cast<double>(cnt[s]);
  return sum;
}

}  // namespace animerun::segments
