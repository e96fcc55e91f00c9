// `animerun bench ant`: median time per pair of the AnT matcher (boxes, network, softmax,
// conversions) on a synthetic pair with a given number of segments, and peak memory.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "app/cli/arg_parser.h"
#include "core/flow/flow_models.h"
#include "app/cli/bench_registry.h"
#include "app/cli/bench_util.h"
#include "core/segments/ant_matcher.h"

namespace animerun::cli {
namespace {

// Process CPU seconds (user + system): on a shared machine this moves less with the load
// than wall time does (with 1 thread it is close to the time on an idle core).
// Voronoi cells of n distinct random seeds (every seed owns at least its own pixel, so all
// n ids are present), each filled with a flat colour; frame t+1 is the same scene moved by
// (3, 2) px. Brute force nearest seed: a fraction of a second even at 960x540 x 400.
segments::MatchInput MakePair(int h, int w, int n) {
  cv::RNG rng(11);
  std::vector<cv::Point> seeds;
  std::vector<char> used(static_cast<size_t>(h) * w, 0);
  while (static_cast<int>(seeds.size()) < n) {
    const cv::Point p(rng.uniform(0, w), rng.uniform(0, h));
    if (used[static_cast<size_t>(p.y) * w + p.x]++) continue;
    seeds.push_back(p);
  }
  std::vector<cv::Vec3b> colours(n);
  for (auto& c : colours) c = cv::Vec3b(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
  cv::Mat labels(h, w, CV_32SC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      int best = 0;
      long best_d = -1;
      for (int i = 0; i < n; ++i) {
        const long dx = x - seeds[i].x, dy = y - seeds[i].y, d = dx * dx + dy * dy;
        if (best_d < 0 || d < best_d) best_d = d, best = i;
      }
      labels.at<int>(y, x) = best;
    }
  segments::MatchInput in;
  in.labels0 = labels;
  in.labels1 = cv::Mat(h, w, CV_32SC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      in.labels1.at<int>(y, x) = labels.at<int>(std::clamp(y - 2, 0, h - 1), std::clamp(x - 3, 0, w - 1));
  for (const auto& [l, img] : {std::pair{&in.labels0, &in.image0}, std::pair{&in.labels1, &in.image1}}) {
    *img = cv::Mat(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) img->at<cv::Vec3b>(y, x) = colours[l->at<int>(y, x)];
  }
  return in;
}

int RunBenchAnt(int argc, char** argv) {
  segments::AntMatcherOptions o;
  o.allow_random_weights = true;
  std::string size = "540x960";
  int n = 100, repeats = 3, warmup = 1;
  double peak_gflops = 0;
  ArgParser p(argv[0], "Times the AnT matcher on one synthetic pair with --segments Voronoi segments per frame: "
                       "median seconds per pair over --repeats runs after --warmup runs, and peak resident memory. "
                       "Random weights unless --weights is given (speed does not depend on the weights).");
  p.Add("--segments", &n, "segments per frame");
  p.Add("--size", &size, "input size HxW");
  p.Add("--weights", &o.weights, "AnT checkpoint (optional)" + flow::BuiltinWeightsHelp("ant"));
  p.Add("--device", &o.device, "cpu, cuda or cuda:N");
  p.Add("--threads", &o.threads, "LibTorch CPU threads (0 = the process setting)");
  p.Add("--precision", &o.precision,
        "fp32, or bf16: the encoder's convolutions in bf16 (where oneDNN's fp32 Winograd runs the other two, "
        "the first, and the last's products by a bf16 Winograd on AVX-512 BF16), the rest fp32");
  p.Add("--repeats", &repeats, "timed runs");
  p.Add("--warmup", &warmup, "untimed runs first");
  p.Add("--peak-gflops", &peak_gflops,
        "the machine's peak GFLOP/s for --precision (from `animerun bench peak`); 0 measures it after the run (2 s)");
  if (!p.Parse(argc, argv)) return 0;
  int h = 0, w = 0;
  if (std::sscanf(size.c_str(), "%dx%d", &h, &w) != 2 || h < 8 || w < 8) throw UsageError("--size must be HxW, e.g. 540x960");
  if (n < 2 || static_cast<long>(n) > static_cast<long>(h) * w) throw UsageError("--segments must be in [2, H*W]");
  if (repeats < 1 || warmup < 0) throw UsageError("--repeats must be >= 1 and --warmup >= 0");
  try {
    o.Check();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }

  segments::AntMatcher matcher(o);
  const segments::MatchInput in = MakePair(h, w, n);
  segments::MatchResult result;
  for (int i = 0; i < warmup; ++i) result = matcher.Match(in);
  std::vector<double> secs, cpu;
  for (int i = 0; i < repeats; ++i) {
    const double c0 = ProcessCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    result = matcher.Match(in);
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu.push_back(ProcessCpuSeconds() - c0);
  }
  std::sort(secs.begin(), secs.end());
  std::sort(cpu.begin(), cpu.end());
  const long rss = PeakRssMb();
  const double median = secs[secs.size() / 2];
  double flop = 0;
  for (const auto& part : matcher.OfficialFlops(h, w, n, n)) flop += part.second;
  // Reduced precision: how many segments keep the fp32 match, and the largest change of a
  // raw score (after the timing and the memory figure, so the fp32 network costs neither).
  std::string vs_fp32;
  if (o.precision != "fp32") {
    segments::AntMatcherOptions f = o;
    f.precision = "fp32";
    const segments::MatchResult ref = segments::AntMatcher(f).Match(in);
    size_t same = 0;
    for (size_t i = 0; i < ref.matches.size(); ++i) same += result.matches.at(i) == ref.matches[i];
    double max_diff = 0;
    for (int r = 0; r < ref.scores.rows; ++r)
      for (int c = 0; c < ref.scores.cols; ++c)
        max_diff = std::max(max_diff, static_cast<double>(std::abs(result.scores.at<float>(r, c) - ref.scores.at<float>(r, c))));
    char buf[160];
    std::snprintf(buf, sizeof buf, ", \"matches_as_fp32\": %.4f, \"max_score_diff_vs_fp32\": %.4g",
                  ref.matches.empty() ? 1.0 : static_cast<double>(same) / ref.matches.size(), max_diff);
    vs_fp32 = buf;
  }
  const std::string roof = RooflineJson(flop, median, peak_gflops, o.precision, o.device == "cpu");
  std::printf("{\"bench\": \"ant\", \"size\": \"%dx%d\", \"segments\": %d, \"device\": \"%s\", \"threads\": %d, "
              "\"precision\": \"%s\", \"median_s\": %.4f, \"min_s\": %.4f, \"median_cpu_s\": %.4f, "
              "\"peak_rss_mb\": %ld%s%s}\n",
              h, w, n, o.device.c_str(), o.threads, o.precision.c_str(), median, secs.front(), cpu[cpu.size() / 2], rss,
              vs_fp32.c_str(), roof.c_str());
  return 0;
}

}  // namespace

ANIMERUN_REGISTER_BENCH(ant, "ant", "median time per pair and peak memory of the AnT matcher", RunBenchAnt);

}  // namespace animerun::cli
