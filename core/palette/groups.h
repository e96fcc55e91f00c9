// Building palette groups: one group per folder, or an automatic suggestion that clusters
// frames by their colour histograms (k-means with a chi-square distance, k-means++ seeding
// from our own Python-compatible generator, so a seed gives the same groups everywhere).
// Suggested groups are PaletteFile groups with frames but no colours yet; the user edits
// them (rename, tag a style, move frames) and then extracts their palettes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/jobs/job.h"
#include "core/palette/palette.h"

namespace animerun::palette {

struct SuggestOptions {
  int groups = 0;             // K; 0 = automatic: round(sqrt(frames / 2)) clamped to 1..8
  int levels = 8;             // histogram levels per channel: 2, 4, 8 or 16 (8 -> 512 bins)
  uint64_t seed = 0;          // k-means++ seeding; same seed -> same groups
  int restarts = 4;           // independent k-means++ runs; the lowest total distance wins
  int max_iterations = 50;    // per run; stops earlier when no frame changes group
  int threads = 0;            // frame reading; 0 = all cores
  std::string name_prefix = "group_";  // groups are named <prefix>1, <prefix>2, ...
  std::string style;          // style tag given to every suggested group
  void Check() const;
};

// Normalised (sums to 1) joint RGB histogram with levels^3 bins; bin = v * levels / 256.
std::vector<float> HistogramFeature(const cv::Mat& rgb, int levels);

// 0.5 * sum (a_i - b_i)^2 / (a_i + b_i) over bins where a_i + b_i > 0 (0 for identical,
// 1 for disjoint normalised histograms).
double ChiSquareDistance(const std::vector<float>& a, const std::vector<float>& b);

struct Clustering {
  std::vector<int> assignment;  // frame -> cluster in 0..k-1; clusters numbered by first frame
  int k = 0;
  double cost = 0.0;            // sum of chi-square distances to the cluster means
};
// k-means on histograms: assignment by chi-square distance, centres are bin-wise means.
// k is clamped to the number of features. Deterministic for a seed.
Clustering ClusterHistograms(const std::vector<std::vector<float>>& features, int k, uint64_t seed,
                             int restarts = 4, int max_iterations = 50);

// The automatic K for n frames (SuggestOptions::groups == 0).
int AutoGroupCount(size_t frames);

// Reads the frames (in parallel), clusters them and returns groups (no colours yet).
PaletteFile SuggestGroups(const std::vector<std::filesystem::path>& frames, const SuggestOptions& options,
                          const JobContext* job = nullptr);

// One group per folder, named after the folder (name-2, name-3... when two folders share a
// name), holding the folder's image files (recursively). Throws Error for a folder
// without images.
PaletteFile GroupsFromFolders(const std::vector<std::string>& folders, const std::string& style = "");

}  // namespace animerun::palette
