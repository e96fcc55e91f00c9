#include "core/palette/groups.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>

#include "core/io/image_io.h"
#include "core/palette/extract.h"
#include "core/palette/parallel.h"
#include "core/palette/py_random.h"
#include "core/util/error.h"

namespace animerun::palette {

namespace fs = std::filesystem;

void SuggestOptions::Check() const {
  Require(groups >= 0, "groups must be >= 0 (0 = automatic)");
  Require(levels == 2 || levels == 4 || levels == 8 || levels == 16, "levels must be 2, 4, 8 or 16");
  Require(restarts >= 1, "restarts must be >= 1");
  Require(max_iterations >= 1, "max_iterations must be >= 1");
  Require(threads >= 0, "threads must be >= 0");
  Require(!name_prefix.empty(), "name_prefix must not be empty");
}

std::vector<float> HistogramFeature(const cv::Mat& rgb, int levels) {
  if (rgb.type() != CV_8UC3) throw Error("HistogramFeature: expected an RGB CV_8UC3 image");
  int shift = 0;
  while ((256 >> shift) > levels) ++shift;
  std::vector<int64_t> counts(static_cast<size_t>(levels) * levels * levels, 0);
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3)
      ++counts[((p[0] >> shift) * levels + (p[1] >> shift)) * levels + (p[2] >> shift)];
  }
  std::vector<float> out(counts.size(), 0.f);
  const double total = static_cast<double>(rgb.total());
  if (total > 0)
    for (size_t i = 0; i < counts.size(); ++i) out[i] = static_cast<float>(counts[i] / total);
  return out;
}

double ChiSquareDistance(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double s = double(a[i]) + b[i];
    if (s > 0) d += (double(a[i]) - b[i]) * (double(a[i]) - b[i]) / s;
  }
  return 0.5 * d;
}

namespace {

using Feature = std::vector<float>;

// One k-means run from a k-means++ start; returns the assignment and its cost.
Clustering RunKMeans(const std::vector<Feature>& x, int k, PyRandom* rng, int max_iterations) {
  const size_t n = x.size();
  std::vector<Feature> centres;
  // k-means++: the first centre uniformly, the next ones with probability proportional to
  // the distance to the nearest chosen centre.
  centres.push_back(x[rng->RandBelow(static_cast<uint32_t>(n))]);
  std::vector<double> nearest(n, std::numeric_limits<double>::max());
  while (static_cast<int>(centres.size()) < k) {
    std::vector<double> cum(n);
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      nearest[i] = std::min(nearest[i], ChiSquareDistance(x[i], centres.back()));
      sum += nearest[i];
      cum[i] = sum;
    }
    size_t pick;
    if (sum <= 0.0) {
      pick = rng->RandBelow(static_cast<uint32_t>(n));  // all frames identical to a centre
    } else {
      const double r = rng->Random() * sum;
      pick = std::min<size_t>(n - 1, std::upper_bound(cum.begin(), cum.end(), r) - cum.begin());
    }
    centres.push_back(x[pick]);
  }

  Clustering c;
  c.k = k;
  c.assignment.assign(n, -1);
  std::vector<double> dist(n, 0.0);
  for (int it = 0; it < max_iterations; ++it) {
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      int best = 0;
      double best_d = std::numeric_limits<double>::max();
      for (int j = 0; j < k; ++j) {
        const double d = ChiSquareDistance(x[i], centres[j]);
        if (d < best_d) best_d = d, best = j;
      }
      dist[i] = best_d;
      if (c.assignment[i] != best) c.assignment[i] = best, changed = true;
    }
    if (!changed) break;
    // New centres: bin-wise means. An empty cluster takes the frame farthest from its centre.
    std::vector<Feature> sums(k, Feature(x[0].size(), 0.f));
    std::vector<int> sizes(k, 0);
    for (size_t i = 0; i < n; ++i) {
      Feature& s = sums[c.assignment[i]];
      for (size_t b = 0; b < s.size(); ++b) s[b] += x[i][b];
      ++sizes[c.assignment[i]];
    }
    for (int j = 0; j < k; ++j) {
      if (sizes[j] == 0) {
        const size_t far = std::max_element(dist.begin(), dist.end()) - dist.begin();
        centres[j] = x[far];
        dist[far] = 0.0;
        c.assignment[far] = j;
        continue;
      }
      for (size_t b = 0; b < sums[j].size(); ++b) sums[j][b] /= sizes[j];
      centres[j] = sums[j];
    }
  }
  c.cost = 0.0;
  for (size_t i = 0; i < n; ++i) c.cost += ChiSquareDistance(x[i], centres[c.assignment[i]]);
  return c;
}

// Renumbers clusters by their first frame and drops empty ones.
void Canonicalise(Clustering* c) {
  std::vector<int> remap(c->k, -1);
  int next = 0;
  for (int& a : c->assignment) {
    if (remap[a] < 0) remap[a] = next++;
    a = remap[a];
  }
  c->k = next;
}

}  // namespace

Clustering ClusterHistograms(const std::vector<Feature>& features, int k, uint64_t seed, int restarts,
                             int max_iterations) {
  if (features.empty()) throw Error("ClusterHistograms: no frames");
  for (const auto& f : features)
    if (f.size() != features[0].size() || f.empty()) throw Error("ClusterHistograms: histograms differ in size");
  k = std::max(1, std::min<int>(k, static_cast<int>(features.size())));
  PyRandom rng(seed);
  Clustering best;
  best.cost = std::numeric_limits<double>::max();
  for (int r = 0; r < std::max(1, restarts); ++r) {
    Clustering c = RunKMeans(features, k, &rng, std::max(1, max_iterations));
    if (c.cost < best.cost - 1e-12) best = std::move(c);
  }
  Canonicalise(&best);
  return best;
}

int AutoGroupCount(size_t frames) {
  const int k = static_cast<int>(std::lround(std::sqrt(frames / 2.0)));
  return std::max(1, std::min(8, k));
}

PaletteFile SuggestGroups(const std::vector<fs::path>& frames, const SuggestOptions& options, const JobContext* job) {
  options.Check();
  if (frames.empty()) throw Error("suggest groups: no frames");
  std::vector<Feature> features(frames.size());
  std::atomic<size_t> done{0};
  std::mutex report_mutex;
  ParallelFor(frames.size(), options.threads, [&](size_t i, int) {
    if (job) job->CheckCancel();
    features[i] = HistogramFeature(io::ReadImageRgb(frames[i]), options.levels);
    const size_t d = ++done;
    std::lock_guard<std::mutex> lock(report_mutex);
    if (job) job->Report(0.9 * d / frames.size(), "histograms " + std::to_string(d) + "/" + std::to_string(frames.size()));
  });
  if (job) job->CheckCancel();
  const int k = options.groups > 0 ? options.groups : AutoGroupCount(frames.size());
  const Clustering c = ClusterHistograms(features, k, options.seed, options.restarts, options.max_iterations);
  PaletteFile out;
  out.groups.resize(c.k);
  for (int j = 0; j < c.k; ++j) {
    out.groups[j].name = options.name_prefix + std::to_string(j + 1);
    out.groups[j].style = options.style;
  }
  for (size_t i = 0; i < frames.size(); ++i) out.groups[c.assignment[i]].frames.push_back(frames[i].string());
  if (job) job->Report(1.0, std::to_string(c.k) + " groups");
  return out;
}

PaletteFile GroupsFromFolders(const std::vector<std::string>& folders, const std::string& style) {
  PaletteFile out;
  for (const std::string& folder : folders) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) ThrowFileError(folder, "not a folder");
    PaletteGroup g;
    std::string base = fs::path(folder).lexically_normal().filename().string();
    if (base.empty()) base = fs::path(folder).lexically_normal().parent_path().filename().string();
    if (base.empty()) base = "group";
    g.name = base;
    for (int n = 2; out.Find(g.name); ++n) g.name = base + "-" + std::to_string(n);
    g.style = style;
    for (const auto& f : ExpandFrameInputs({folder})) g.frames.push_back(f.string());
    out.groups.push_back(std::move(g));
  }
  return out;
}

}  // namespace animerun::palette
